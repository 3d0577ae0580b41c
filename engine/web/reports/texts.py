"""The report pages' words in each console language. A figure's English name is its key in the report (as the
command line, JSON and CSV name it); its formula is the report's own text, never translated here."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Reports", "sign_out": "Sign out", "intro": "The reports you may read; each opens on today.",
        "none": "No report is open to you.", "r_agents": "Agents", "r_services": "Services",
        "r_hotline": "Hotline quality sheet", "r_campaigns": "Campaigns", "r_cases": "Cases",
        "r_sales": "Sales", "d_sales": "per day and agent: orders and sales against the daily target, by team; the "
        "commission split",
        "d_agents": "per agent and day: work time, pauses, calls, handle times, occupancy, CSAT, QA score",
        "d_services": "per interval and service: offered, answered, abandoned (with the list), ASA, service level",
        "d_hotline": "the hotline's quality: answered within 3 rings, overflow, the guard, satisfaction against 95",
        "d_campaigns": "per day, team and campaign: dials, outcomes, conversations, abandon rates",
        "d_cases": "per day: complaints opened, resolved, open and overdue; follow-ups due and done, the rate",
        "filters": "Filters", "from": "From", "to": "To", "interval": "Interval", "team": "Team", "agent": "Agent",
        "service": "Service", "all": "all", "default": "default", "show": "Show", "all_reports": "All reports",
        "figures": "Figures", "by_team": "By team", "abandoned": "Abandoned calls", "formulas": "Formulas",
        "plot": "Plot", "plot_alt": "The {report} report as a plot", "downloads": "Downloads",
        "counted_until": "Counted until", "timezone": "Time zone", "no_rows": "No rows in this range.",
        "mistake": "Check the form:", "time": "Time", "caller": "Caller", "wait": "Wait (s)", "short": "Short",
        "yes": "yes", "no": "no", "sat_target": "Satisfaction target: {target} %",
        "fu_goal": "Follow-up rate goal: {goal}", "no_report": "No such report",
    },
    "zh": {
        "title": "报表", "sign_out": "退出", "intro": "您可以查看的报表；默认显示今天。",
        "none": "没有您可查看的报表。", "r_agents": "坐席工作统计", "r_services": "业务统计",
        "r_hotline": "热线质量表", "r_campaigns": "外呼活动", "r_cases": "工单",
        "r_sales": "销售", "d_sales": "每天每位坐席：订单与销售额对比日目标，按团队汇总；提成分配",
        "d_agents": "每位坐席每天：在线时长、暂停、通话、处理时长、占用率、满意度、质检得分",
        "d_services": "每个时段每项业务：呼入、接通、放弃（含清单）、平均应答速度、服务水平",
        "d_hotline": "热线质量：三声内接听、溢出、保留外呼坐席、满意度（目标 95）",
        "d_campaigns": "每天每个团队每个外呼活动：拨号、结果、通话、放弃率",
        "d_cases": "每天：投诉新增、解决、未解决与逾期；回访应做、已做与回访率",
        "filters": "筛选", "from": "开始日期", "to": "结束日期", "interval": "时段", "team": "团队", "agent": "坐席",
        "service": "业务", "all": "全部", "default": "默认", "show": "查询", "all_reports": "全部报表",
        "figures": "数据", "by_team": "按团队", "abandoned": "放弃来电", "formulas": "计算公式", "plot": "图表",
        "plot_alt": "{report} 报表图表", "downloads": "下载", "counted_until": "统计截至", "timezone": "时区",
        "no_rows": "此范围内没有数据。", "mistake": "请检查表单：", "time": "时间", "caller": "主叫",
        "wait": "等待（秒）", "short": "短放弃", "yes": "是", "no": "否", "sat_target": "满意度目标：{target}%",
        "fu_goal": "回访率目标：{goal}",
        "no_report": "没有此报表",
    },
}  # fmt: skip

# figure names in Chinese (English shows the report's own key)
FIGURES_ZH: dict[str, str] = {
    "period": "时段", "service": "业务", "agent": "坐席", "name": "姓名", "team": "团队", "campaign": "外呼活动",
    "day": "日期", "orders": "订单", "quantity": "数量", "sales": "销售额", "target": "目标", "attainment": "完成率",
    "commission_agent": "坐席提成", "commission_team_lead": "组长提成", "commission_director": "总监提成",
    "commission_others": "其他提成", "commission_total": "提成合计",
    "offered": "呼入量", "answered": "接通", "abandoned": "放弃", "short_abandoned": "短放弃", "other": "其他",
    "asa": "平均应答速度", "service_level": "服务水平", "abandon_rate": "放弃率", "aht": "平均处理时长",
    "longest_wait": "最长等待", "callbacks": "回呼", "voicemails": "留言", "timeouts": "超时",
    "first_login": "首次签入", "last_logout": "最后签出", "logged_in": "在线时长", "pause": "暂停",
    "inbound_calls": "呼入通话", "outbound_conversations": "外呼通话", "talk": "通话时长", "hold": "保持时长",
    "wrap_up": "话后处理", "outbound_talk": "外呼通话时长", "occupancy": "占用率", "dispositions": "处理结果",
    "csat": "满意度", "csat_top2": "满意度（4-5 分占比）", "qa_score": "质检得分", "ring_3": "三声内接听",
    "overflowed": "溢出", "lent": "外呼坐席接听", "guard_reserves": "保留外呼坐席", "over_limit": "超出会话上限",
    "surveys": "满意度评价数", "satisfaction": "满意度（%）", "satisfaction_met": "达到满意度目标", "dials": "拨号",
    "outcomes": "拨号结果", "machines": "答录机", "conversations": "通话", "live": "真人接听",
    "abandon_rate_us": "放弃率（美国）", "abandon_rate_uk": "放弃率（英国）", "late_connects": "延迟接通",
    "abandoned_calls": "放弃来电清单", "follow_ups_due": "应回访", "follow_ups_on_time": "按时回访",
    "opened": "新增投诉", "by_source": "投诉来源", "resolved": "已解决", "resolved_on_time": "按时解决",
    "open": "未解决", "overdue": "已逾期", "follow_ups_done": "已回访", "follow_ups_done_on_time": "按时回访",
    "follow_up_rate": "回访率", "goal_met": "达到回访目标", "cases_resolved": "已解决工单",
    "repeat_contacts": "重复来电", "first_contact_resolution": "首次解决率",
}  # fmt: skip


def figure_name(key: str, lang: str) -> str:
    return FIGURES_ZH.get(key, key) if lang == "zh" else key
