"""The few libopus calls the recorder needs (Debian's libopus0, through ctypes): a multistream encoder that codes
each channel as its own mono stream.

Why not a stereo encoder: at the bit-rates a call recording wants, Opus codes a narrow-band stereo pair as one
channel and the silent side carries the talker's voice (measured: 0 dB between the sides at 16 kbit/s); two
mono streams keep the caller and the agent apart at any rate and spend almost nothing on a side's silence.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

import numpy as np

APPLICATION_VOIP = 2048
SET_BITRATE = 4002
SET_COMPLEXITY = 4010
GET_LOOKAHEAD = 4027
# [recording] complexity's default. Measured on 127 s of recorded human speech (Asterisk's prompts) at 16 kbit/s:
# 10 took 1.58 s of CPU to encode and check, 5 took 1.04 s; PESQ (narrow-band MOS) 3.80 and 3.71. At a full
# floor the recorder encodes some 45 minutes of audio a minute, so that third is most of the engine's CPU.
DEFAULT_COMPLEXITY = 5
MAX_PACKET = 4000  # bytes: the largest packet libopus writes for 20 ms of up to 8 streams


class OpusError(RuntimeError):
    pass


@cache
def _lib() -> ctypes.CDLL:
    name = ctypes.util.find_library("opus") or "libopus.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise OpusError(f"libopus is not installed ({exc}): `./scripts/setup.sh` installs Debian's libopus0") from None
    lib.opus_multistream_encoder_create.restype = ctypes.c_void_p
    lib.opus_multistream_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                                     ctypes.POINTER(ctypes.c_ubyte), ctypes.c_int,
                                                     ctypes.POINTER(ctypes.c_int)]  # fmt: skip
    lib.opus_multistream_encode.restype = ctypes.c_int32
    lib.opus_multistream_encode.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16), ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_ubyte), ctypes.c_int32]  # fmt: skip
    lib.opus_multistream_encoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_multistream_encoder_destroy.restype = None
    lib.opus_strerror.restype = ctypes.c_char_p
    lib.opus_strerror.argtypes = [ctypes.c_int]
    return lib


def _check(code: int, what: str) -> None:
    if code < 0:
        raise OpusError(f"libopus {what}: {_lib().opus_strerror(code).decode()}")


class MonoStreams:
    """One mono Opus stream per channel, ``kbit_s`` shared out evenly; 20 ms frames. ``complexity`` 0-10 trades
    the encoder's CPU for quality (libopus's own default is 10)."""

    def __init__(self, rate: int, channels: int, kbit_s: float, complexity: int = DEFAULT_COMPLEXITY) -> None:
        lib = _lib()
        err = ctypes.c_int()
        mapping = (ctypes.c_ubyte * channels)(*range(channels))
        self._enc = lib.opus_multistream_encoder_create(rate, channels, channels, 0, mapping, APPLICATION_VOIP,
                                                         ctypes.byref(err))  # fmt: skip
        _check(err.value, "encoder")
        self.rate, self.channels, self.frame = rate, channels, rate // 50
        # the encoder's variadic control calls take their argument as a C int (or a pointer to one)
        _check(lib.opus_multistream_encoder_ctl(ctypes.c_void_p(self._enc), ctypes.c_int(SET_BITRATE),
                                                ctypes.c_int32(int(kbit_s * 1000))), "bit-rate")  # fmt: skip
        _check(lib.opus_multistream_encoder_ctl(ctypes.c_void_p(self._enc), ctypes.c_int(SET_COMPLEXITY),
                                                ctypes.c_int32(complexity)), "complexity")  # fmt: skip
        look = ctypes.c_int32()
        _check(lib.opus_multistream_encoder_ctl(ctypes.c_void_p(self._enc), ctypes.c_int(GET_LOOKAHEAD),
                                                ctypes.byref(look)), "look-ahead")  # fmt: skip
        self.lookahead = look.value  # samples at ``rate`` the decoder must drop at the start
        self._out = (ctypes.c_ubyte * MAX_PACKET)()

    def encode(self, pcm: np.ndarray) -> bytes:
        """One 20 ms frame (frame x channels, int16) to one packet."""
        block = np.ascontiguousarray(pcm, dtype=np.int16)
        n = _lib().opus_multistream_encode(self._enc, block.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)),
                                           self.frame, self._out, MAX_PACKET)  # fmt: skip
        _check(n, "encode")
        return bytes(self._out[:n])

    def close(self) -> None:
        if self._enc:
            _lib().opus_multistream_encoder_destroy(self._enc)
            self._enc = None
