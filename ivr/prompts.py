"""``hotline prompts build``: every prompt of the menu, per language, as files Asterisk plays without
transcoding: 16-bit 8 kHz mono WAV (slin) plus raw u-law and A-law (G.711 trunks and phones).

A recorded studio file (``<studio_dir>/<lang>/<prompt>.wav``) wins over text; text is spoken by
espeak-ng (``cmn`` for Mandarin) and resampled by sox. A manifest of what each file was made from lets a
second run skip unchanged prompts.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ivr.model import Menu

VOICES = {"zh": "cmn", "cmn": "cmn", "en": "en-us", "yue": "yue"}
FORMATS = (("wav", ["-t", "wav", "-e", "signed-integer", "-b", "16"]), ("ulaw", ["-t", "ul"]), ("alaw", ["-t", "al"]))


class PromptError(Exception):
    pass


@dataclass(frozen=True)
class Built:
    prompt: str
    language: str
    source: str  # "studio" or "text"
    skipped: bool


def _tools() -> None:
    missing = [t for t in ("espeak-ng", "sox") if shutil.which(t) is None]
    if missing:
        raise PromptError(f"missing {' and '.join(missing)}: apt-get install espeak-ng sox (or `make setup-test`)")


def build_prompts(menu: Menu, out: Path, studio_dir: Path | None = None,
                  progress: Callable[[str], None] = lambda _: None) -> list[Built]:  # fmt: skip
    _tools()
    out.mkdir(parents=True, exist_ok=True)
    manifest_file = out / "manifest.json"
    try:
        manifest: dict[str, str] = json.loads(manifest_file.read_text())
    except (OSError, ValueError):
        manifest = {}
    jobs = [(pid, lang) for pid, texts in sorted(menu.prompts.items()) if texts for lang in menu.languages]
    done: list[Built] = []
    for i, (pid, lang) in enumerate(jobs, start=1):
        studio = studio_dir / lang / f"{pid}.wav" if studio_dir else None
        text = menu.prompts[pid].get(lang, "")
        if studio is not None and studio.exists():
            source, digest = "studio", hashlib.sha256(studio.read_bytes()).hexdigest()
        elif text:
            source, digest = "text", hashlib.sha256(f"{VOICES.get(lang, lang)}|{text}".encode()).hexdigest()
        else:
            raise PromptError(f"prompt {pid!r} has no {lang} text and no studio file")
        key = f"{lang}/{pid}"
        target = out / lang / pid
        if manifest.get(key) == digest and all(target.with_suffix(f".{ext}").exists() for ext, _ in FORMATS):
            done.append(Built(pid, lang, source, True))
            progress(f"[{i}/{len(jobs)}] {key}: unchanged")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "src.wav"
            if source == "studio":
                assert studio is not None
                shutil.copy2(studio, src)
            else:
                _run(["espeak-ng", "-v", VOICES.get(lang, lang), "-s", "150", "-w", str(src), text], key)
            for ext, opts in FORMATS:
                _run(["sox", str(src), "-r", "8000", "-c", "1", *opts, str(target.with_suffix(f".{ext}"))], key)
        manifest[key] = digest
        done.append(Built(pid, lang, source, False))
        progress(f"[{i}/{len(jobs)}] {key}: {source}")
    manifest_file.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return done


def _run(cmd: list[str], what: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise PromptError(f"{what}: {cmd[0]} failed: {r.stderr.strip()[:300]}")
