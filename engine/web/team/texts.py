"""The team page's words in each console language: the wallboard's (states, headings) and the page's own.

The alert lines are templates the script fills in ({agent}, {service}, {reason}, {limit}): what crossed
which line, not the figure of the moment, which the tables show. A refusal's reason is the engine's own
sentence, shown as it is (engine/policy.py).
"""

from __future__ import annotations

from engine.web.wallboard.texts import TEXTS as BOARD

OWN: dict[str, dict[str, str]] = {
    "en": {
        "sample_h": "Today's sample to score", "sample_none": "No recorded call of this team's agents today yet.",
        "sample_time": "Time", "length": "Length", "risks": "Risks", "graded": "Graded", "new_hire": "new hire",
        "yes": "yes", "no": "no", "replay": "Replay and score",
        "title": "Team", "team_of": "Team {team}", "teams": "Teams", "name": "Name", "alerts": "Alerts",
        "no_alerts": "No alerts", "act": "Act on an agent", "reason_for": "Reason (pause, log-out)",
        "force_pause": "Force pause", "force_logout": "Force log-out", "listen": "Listen", "whisper": "Whisper",
        "barge": "Barge", "select": "Select {agent}", "result": "Result", "done": "Done", "refused": "Refused",
        "sending": "Sending…", "need_reason": "Give a reason for {action}.", "failed": "No answer from the engine",
        "monitor_note": "Listen, whisper and barge ring your phone; they need the agent on a call.",
        "alert_pause_over": "{agent} paused ({reason}) over its limit of {limit}",
        "alert_wrapup_over": "{agent} in wrap-up over {limit}",
        "alert_waiting_over": "{service}: a caller has waited over {limit}",
        "alert_service_level": "{service}: service level under the goal of {limit}",
        "warn_service_level": "{service}: service level at risk (under {limit})",
        "alert_case_overdue": "case {case} ({reason}) is overdue: it was due {due}",
        "raised_at": "since", "cases": "Cases", "orders": "Orders", "customers": "Customers",
        "open_case": "open the case",
    },
    "zh": {
        "sample_h": "今日待评抽样", "sample_none": "今天本团队坐席尚无录音通话。", "sample_time": "时间",
        "length": "时长", "risks": "风险", "graded": "已评分", "new_hire": "新员工", "yes": "是", "no": "否",
        "replay": "回放并评分",
        "title": "团队", "team_of": "{team} 团队", "teams": "团队", "name": "姓名", "alerts": "告警",
        "no_alerts": "暂无告警", "act": "坐席操作", "reason_for": "原因（暂停、签出）",
        "force_pause": "强制暂停", "force_logout": "强制签出", "listen": "监听", "whisper": "耳语", "barge": "强插",
        "select": "选择 {agent}", "result": "结果", "done": "已完成", "refused": "被拒绝", "sending": "正在发送…",
        "need_reason": "请填写{action}的原因。", "failed": "引擎没有响应",
        "monitor_note": "监听、耳语和强插会呼叫您的话机；坐席须在通话中。",
        "alert_pause_over": "{agent} 暂停（{reason}）超过上限 {limit}",
        "alert_wrapup_over": "{agent} 话后处理超过 {limit}",
        "alert_waiting_over": "{service}：有来电等待超过 {limit}",
        "alert_service_level": "{service}：服务水平低于目标 {limit}",
        "warn_service_level": "{service}：服务水平有风险（低于 {limit}）",
        "alert_case_overdue": "工单 {case}（{reason}）已超期：应于 {due} 前处理",
        "raised_at": "自", "cases": "工单", "orders": "订单", "customers": "客户", "open_case": "打开工单",
    },
}

TEXTS: dict[str, dict[str, str]] = {lang: {**BOARD[lang], **own} for lang, own in OWN.items()}
