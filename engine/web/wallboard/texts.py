"""The wallboard's words in each console language (the page's headings and the script's labels)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Wallboard", "services": "Services", "agents": "Agents", "campaigns": "Campaigns",
        "service": "Service", "waiting": "Waiting", "longest_wait": "Longest wait", "answered": "Answered today",
        "abandoned": "Abandoned today", "service_level": "Service level", "goal": "goal", "asa": "ASA",
        "agent": "Agent", "state": "State", "in_state": "Time in state", "reason": "Pause reason", "call": "Call",
        "campaign": "Campaign", "lines": "Lines", "conversations": "Conversations", "abandon_rate": "Abandon rate",
        "limit": "limit",
        "live": "Live", "connecting": "Connecting…", "reconnecting": "Connection lost, reconnecting…",
        "over": "over limit", "at_risk": "at risk", "none": "none yet", "engine_time": "Engine time",
        "logged_out": "logged out", "paused": "paused", "available": "available", "idle": "idle",
        "reserved": "reserved", "ringing": "ringing", "on_call": "on call", "on_hold": "on hold",
        "wrap_up": "wrap-up", "talking": "talking", "wrap": "wrap-up", "preview": "preview", "joining": "joining",
        "lent": "lent", "calls_today": "Calls today", "aht": "AHT", "abandoned_list": "Abandoned today",
        "caller": "Caller", "wait": "Wait", "hung_up": "Hung up at", "short": "short (not counted)",
        "users": "Users", "reports": "Reports",
    },
    "zh": {
        "title": "实时看板", "services": "服务", "agents": "坐席", "campaigns": "外呼活动",
        "service": "服务", "waiting": "排队中", "longest_wait": "最长等待", "answered": "今日接通",
        "abandoned": "今日放弃", "service_level": "服务水平", "goal": "目标", "asa": "平均应答时间",
        "agent": "坐席", "state": "状态", "in_state": "状态时长", "reason": "暂停原因", "call": "通话",
        "campaign": "活动", "lines": "线路", "conversations": "通话中", "abandon_rate": "放弃率", "limit": "上限",
        "live": "实时", "connecting": "正在连接…", "reconnecting": "连接中断，正在重连…",
        "over": "超出上限", "at_risk": "有风险", "none": "暂无", "engine_time": "引擎时间",
        "logged_out": "已签出", "paused": "暂停", "available": "空闲可用", "idle": "空闲",
        "reserved": "已预留", "ringing": "振铃", "on_call": "通话中", "on_hold": "保持",
        "wrap_up": "话后处理", "talking": "通话中", "wrap": "话后处理", "preview": "预览", "joining": "接入中",
        "lent": "借调", "calls_today": "今日通话", "aht": "平均处理时长", "abandoned_list": "今日放弃来电",
        "caller": "来电号码", "wait": "等待", "hung_up": "挂断时间", "short": "短时放弃（不计入）",
        "users": "用户", "reports": "报表",
    },
}
