"""The orders page's words in each console language. A refusal or a mistake is the engine's own sentence, shown as
it is (engine/policy.py, sales/)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Orders", "sign_out": "Sign out", "from": "From", "to": "To", "show": "Show",
        "order": "Order", "placed": "Placed", "agent": "Agent", "team": "Team", "campaign": "Campaign",
        "lead": "Lead", "product": "Product", "quantity": "Quantity", "amount": "Amount", "version": "Version",
        "none": "No order in these days.", "history": "History", "by": "by", "reason": "Reason",
        "correct": "Save the correction", "done": "Done:",
        "refused": "Refused:", "corrected": "order {order} is at version {version}", "total": "Total",
        "report": "Sales against target", "read_only": "You may read these orders; corrections are the team lead's.",
    },
    "zh": {
        "title": "订单", "sign_out": "退出", "from": "从", "to": "到", "show": "查看",
        "order": "订单", "placed": "下单时间", "agent": "坐席", "team": "团队", "campaign": "活动",
        "lead": "客户", "product": "产品", "quantity": "数量", "amount": "金额", "version": "版本",
        "none": "这几天没有订单。", "history": "历史", "by": "由", "reason": "原因",
        "correct": "保存更正", "done": "完成：",
        "refused": "被拒绝：", "corrected": "订单 {order} 现为第 {version} 版", "total": "合计",
        "report": "销售目标完成情况", "read_only": "您可以查看这些订单；更正由组长进行。",
    },
}
