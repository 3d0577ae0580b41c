"""The cases pages' words in each console language. A refusal or a mistake is the engine's own sentence, shown as
it is (engine/policy.py, cases/services.py)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Cases", "title_team": "Cases of team {team}", "title_own": "My cases", "case": "Case",
        "sign_out": "Sign out", "filters": "Show", "status": "Status", "kind": "Kind", "team": "Team", "any": "any",
        "apply": "Show", "source": "Source", "opened": "Opened", "due": "Due", "owner": "Owner",
        "number": "Customer", "replays": "Replays", "none": "No case to show.", "overdue": "overdue",
        "more": "The newest {n} of {total} cases are shown: narrow them by status, kind or team.",
        "open": "open", "in_progress": "in progress", "resolved": "resolved", "closed": "closed",
        "complaint": "complaint", "follow_up": "follow-up", "low_survey": "low survey score",
        "case_h": "The case", "facts_h": "What happened", "act_h": "Work the case", "nobody": "nobody",
        "resolution": "Resolution", "note": "Note", "call": "Call", "replay": "replay",
        "assign_h": "Assign", "assign_to": "Agent", "assign": "Assign",
        "resolve_h": "Resolve", "resolve": "Resolve", "also_close": "Close it too",
        "close_h": "Close", "close": "Close", "reopen_h": "Reopen", "reopen": "Reopen", "why": "Reason",
        "done": "Done:", "refused": "Refused:", "read_only": "You may read this case: {why}",
        "f_opened": "opened ({source})", "f_assigned": "assigned to {owner}", "f_status": "now {status}",
        "f_linked": "call {call} linked ({what})", "f_resolved": "resolved: {resolution}",
        "f_overdue": "overdue", "f_purged": "the customer's number and note removed (kept {days} days)",
        "by": "by", "on_time": "on time", "late": "late", "back": "All cases", "team_page": "Team page",
        "link_message": "the customer's message", "link_call": "a call with the customer",
        "link_follow_up_call": "the follow-up call", "link_repeat": "a repeat contact",
    },
    "zh": {
        "title": "工单", "title_team": "{team} 团队的工单", "title_own": "我的工单", "case": "工单",
        "sign_out": "退出", "filters": "筛选", "status": "状态", "kind": "类型", "team": "团队", "any": "全部",
        "apply": "显示", "source": "来源", "opened": "创建时间", "due": "截止时间", "owner": "负责人",
        "number": "客户号码", "replays": "录音回放", "none": "没有可显示的工单。", "overdue": "已超期",
        "more": "仅显示最新的 {n} 条（共 {total} 条）：请按状态、类型或团队筛选。",
        "open": "待处理", "in_progress": "处理中", "resolved": "已解决", "closed": "已关闭",
        "complaint": "投诉", "follow_up": "回访", "low_survey": "满意度低分",
        "case_h": "工单信息", "facts_h": "处理经过", "act_h": "处理工单", "nobody": "无",
        "resolution": "处理结果", "note": "备注", "call": "通话", "replay": "回放",
        "assign_h": "分派", "assign_to": "坐席", "assign": "分派",
        "resolve_h": "解决", "resolve": "解决", "also_close": "同时关闭",
        "close_h": "关闭", "close": "关闭", "reopen_h": "重新打开", "reopen": "重新打开", "why": "原因",
        "done": "已完成：", "refused": "被拒绝：", "read_only": "您可以查看此工单：{why}",
        "f_opened": "创建（{source}）", "f_assigned": "分派给 {owner}", "f_status": "状态变为 {status}",
        "f_linked": "关联通话 {call}（{what}）", "f_resolved": "已解决：{resolution}",
        "f_overdue": "已超期", "f_purged": "客户号码和备注已删除（保留 {days} 天）",
        "by": "操作人", "on_time": "按时", "late": "超时", "back": "全部工单", "team_page": "团队页面",
        "link_message": "客户留言", "link_call": "与客户的通话", "link_follow_up_call": "回访通话",
        "link_repeat": "重复来电",
    },
}  # fmt: skip
