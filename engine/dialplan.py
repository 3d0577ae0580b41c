"""Every name the engine shares with the Asterisk dialplan (``asterisk-conf/extensions.conf``).

Contexts, the extensions and priority the engine sends channels to, and the FastAGI routes the dialplan calls.
A rename on one side only would break calls silently at run time; ``tests/test_dialplan_names.py`` checks
that each name here exists in extensions.conf and that the routes the engine serves are the ones it calls.
"""

from __future__ import annotations

# ---- contexts --------------------------------------------------------------------------------------------
TRUNK_CONTEXT = "from-trunk"  # calls from the carrier: the ``ivr`` route, else the degraded menu
AGENTS_CONTEXT = "agents"  # agents' own phones (pjsip.conf): feature codes through the ``agent`` route
WAIT_CONTEXT = "engine-wait"  # callers wait here (music) until an agent leg's Bridge takes them
ANNOUNCE_CONTEXT = "engine-announce"  # position / wait / a prompt, or the call-back offer; then back to the wait
VOICEMAIL_CONTEXT = "engine-voicemail"  # a rule step's voicemail, recorded by the ``voicemail`` route
CALLBACK_CONTEXT = "engine-callback"  # a call back: the agent leg answers first, then dials the customer
TIMEOUT_CONTEXT = "engine-timeout"  # the apology after the service's maximum wait
DEGRADED_CONTEXT = "engine-degraded"  # engine unreachable: the classic AGI's degraded menu
TRANSFER_CONTEXT = "engine-transfer"  # an IVR transfer node: dial the outside number (the extension)
DONE_CONTEXT = "engine-done"  # a connected caller after the agent hangs up, with no survey: Hangup()
SURVEY_CONTEXT = "engine-survey"  # a connected caller after the agent hangs up: the ``survey`` route
OUTBOUND_CONTEXT = "engine-originate"  # the dialer's Originate target: AMD, then the ``outbound`` route
CONNECT_CONTEXT = "engine-connect"  # a waiting caller bridged into an always-on agent's session
AGENT_CONTEXT = "engine-agent"  # an always-on agent's session: its music between calls
FAX_IN_CONTEXT = "engine-fax-in"  # a fax number's call with a free line: ReceiveFAX
FAX_OUT_CONTEXT = "engine-fax-out"  # a fax dial's Originate target: SendFAX once answered
FAX_DONE_CONTEXT = "engine-fax-done"  # the fax contexts' hang-up handler: the ``fax-done`` route

# ---- extensions and priority -----------------------------------------------------------------------------
START = "s"  # the extension of every context the engine sends a channel to by name
FIRST = "1"  # the priority the engine always enters at
OFFER_EXTEN = "offer"  # in ANNOUNCE_CONTEXT: the call-back offer (Read one digit)
AMD_EXTEN = "amd"  # in OUTBOUND_CONTEXT: AMD(), then the ``outbound`` route with its verdict
LIVE_EXTEN = "live"  # in OUTBOUND_CONTEXT: AMD off, straight to the ``outbound`` route
FAX_BUSY_EXTEN = "busy"  # in FAX_IN_CONTEXT: every fax line in use, Busy()
BASELINE_EXTEN = "4009999999"  # in TRUNK_CONTEXT: app_queue with no engine (``hotline bench reaction`` only)

# ---- FastAGI routes (``AGI(${ENGINE_AGI}/<route>,...)``) --------------------------------------------------
IVR_ROUTE = "ivr"  # the menu, from TRUNK_CONTEXT
SURVEY_ROUTE = "survey"  # the post-call survey, from SURVEY_CONTEXT
VOICEMAIL_ROUTE = "voicemail"  # a rule step's message, from VOICEMAIL_CONTEXT
QUEUE_CALLBACK_ROUTE = "queue-callback"  # 1 pressed at the call-back offer, from ANNOUNCE_CONTEXT
OUTBOUND_ROUTE = "outbound"  # an answered dial with AMD's verdict, from OUTBOUND_CONTEXT
AGENT_ROUTE = "agent"  # feature codes, from AGENTS_CONTEXT
FAX_DONE_ROUTE = "fax-done"  # a fax's result, from FAX_DONE_CONTEXT
ENGINE_AGI = "agi://127.0.0.1:4573"  # the dialplan's ${ENGINE_AGI} global: the lab's FastAGI address

DEGRADED_CDR_TAG = "hotline-degraded"  # CDR(userfield) DEGRADED_CONTEXT sets: how degraded calls are counted


def bridge_return(context: str) -> str:
    """Bridge()'s F() option: where the other party goes on when the channel running Bridge leaves."""
    return f"F({context}^{START}^{FIRST})"


def agi_app_data(route: str, *args: str) -> str:
    """AGI()'s argument as Asterisk reports it (AppData) once ${ENGINE_AGI} is expanded."""
    return ",".join([f"{ENGINE_AGI}/{route}", *args])
