"""The replay page's words in each console language."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Call", "sign_out": "Sign out", "call_h": "The call", "timeline_h": "Timeline",
        "talk_h": "Who talked", "kind": "Kind", "caller": "Caller", "agent": "Agent", "service": "Service",
        "campaign": "Campaign", "started": "Recording starts", "length": "Length", "speed": "Speed",
        "download": "Download", "caller_side": "Caller (left)", "agent_side": "Agent (right)",
        "talk_over": "Talking over each other", "silences": "Silences of 5 s or more", "none": "none",
        "before": "before the recording", "play": "Play", "pause": "Pause",
        "arrival": "arrival", "menu": "menu", "queue": "queue", "ring": "ring", "connect": "connect",
        "hold": "hold", "unhold": "unhold", "transfer": "transfer", "survey": "survey", "case": "case",
        "dial": "dial", "answer": "answer", "end": "end",
        "grade_h": "Grade", "form": "Form", "comments": "Comments", "mark_text": "Comment at the playhead",
        "mark_add": "Add at the playhead", "marks": "Time-coded comments", "submit": "Submit the grade",
        "correct": "Correct this grade", "reason": "Reason for the correction", "history_h": "Grades",
        "version": "version", "score": "score", "critical": "critical failed", "by": "by", "no_grades": "No grade yet.",
        "blind": "Scored blind (calibration): the others' grades show once you have graded this call.",
        "calibrate": "Put up for calibration", "calibrating": "Up for calibration: graders score it blind.",
        "scored": "Graded: score", "refused": "Refused", "corrects": "corrects",
        "amd_title": "AMD check", "amd_intro": "Calls AMD called answering machines: listen and say what answered. "
        "Each label teaches the campaign's pacer how many people AMD hangs up on.", "amd_none": "Nothing to label.",
        "person": "Person", "machine": "Machine", "labelled": "Labelled",
    },
    "zh": {
        "title": "通话", "sign_out": "退出", "call_h": "通话信息", "timeline_h": "时间线", "talk_h": "说话占比",
        "kind": "类型", "caller": "主叫", "agent": "坐席", "service": "业务", "campaign": "外呼活动",
        "started": "录音开始", "length": "时长", "speed": "倍速", "download": "下载", "caller_side": "客户（左声道）",
        "agent_side": "坐席（右声道）", "talk_over": "双方同时说话", "silences": "5 秒以上的静默", "none": "无",
        "before": "录音开始前", "play": "播放", "pause": "暂停",
        "arrival": "来电", "menu": "菜单", "queue": "排队", "ring": "振铃", "connect": "接通", "hold": "保持",
        "unhold": "恢复", "transfer": "转接", "survey": "满意度", "case": "工单", "dial": "拨号", "answer": "应答",
        "end": "结束",
        "grade_h": "评分", "form": "评分表", "comments": "评语", "mark_text": "当前位置的评语",
        "mark_add": "在当前位置添加", "marks": "带时间点的评语", "submit": "提交评分", "correct": "更正此评分",
        "reason": "更正原因", "history_h": "评分记录",
        "version": "版本", "score": "得分", "critical": "关键项不合格", "by": "评分人", "no_grades": "尚无评分。",
        "blind": "盲评（校准）：您提交评分后才能看到其他人的评分。", "calibrate": "发起校准",
        "calibrating": "校准中：评分人各自盲评。", "scored": "已评分：得分", "refused": "已拒绝", "corrects": "更正",
        "amd_title": "AMD 核查",
        "amd_intro": "AMD 判定为答录机的通话：请收听并标注接听方。每个标注都帮助外呼活动的节奏器估计误挂真人的比例。",
        "amd_none": "暂无待标注。", "person": "真人", "machine": "答录机", "labelled": "已标注",
    },
}  # fmt: skip
