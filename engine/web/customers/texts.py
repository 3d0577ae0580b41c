"""The customers' pages' words in each console language."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Customers", "find_h": "Find a customer", "number": "Phone number", "find": "Open the record",
        "recent": "Recently in touch", "empty": "No customer yet.", "record": "Customer {id}", "name": "Name",
        "numbers": "Numbers", "timeline": "Timeline", "no_contact": "No contact yet.", "notes_h": "Add a note",
        "note": "Note", "add_note": "Add the note", "merge_h": "Merge another record into this one",
        "other": "The other record's number", "reason": "Why they are one person", "merge": "Merge",
        "merged_into": "This record was merged into customer {id}.", "purged": "This record's personal data was "
        "destroyed by the retention rule ({days} days after its last contact).", "back": "All customers",
        "done": "Done:", "refused": "Refused:",
        "merged": "customer {other} merged into this one ({n} number(s) moved)",
        "call": "Call", "dial": "Dialed", "sms_out": "SMS sent", "sms_in": "SMS received", "fax": "Fax",
        "case": "Case", "lead": "Lead", "note_e": "Note", "merge_e": "Merged", "recording": "recording",
        "score": "QA score", "callback": "call back", "disposition": "disposition", "sale": "sale",
        "campaign": "campaign", "by": "by", "pages": "pages", "attempts": "tries", "from_record": "customer",
        "updated": "last touched",
    },
    "zh": {
        "title": "客户", "find_h": "查找客户", "number": "电话号码", "find": "打开客户档案",
        "recent": "最近联系", "empty": "暂无客户。", "record": "客户 {id}", "name": "姓名",
        "numbers": "号码", "timeline": "往来记录", "no_contact": "暂无往来。", "notes_h": "添加备注",
        "note": "备注", "add_note": "添加备注", "merge_h": "把另一份档案合并到此档案",
        "other": "另一份档案的号码", "reason": "为何是同一人", "merge": "合并",
        "merged_into": "此档案已合并到客户 {id}。",
        "purged": "此档案的个人信息已按保留规则销毁（最后一次联系后 {days} 天）。",
        "back": "全部客户", "done": "完成：", "refused": "被拒绝：",
        "merged": "客户 {other} 已合并到此档案（移入 {n} 个号码）",
        "call": "来电", "dial": "外呼", "sms_out": "已发短信", "sms_in": "收到短信", "fax": "传真",
        "case": "工单", "lead": "名单", "note_e": "备注", "merge_e": "合并", "recording": "录音",
        "score": "质检分", "callback": "回呼", "disposition": "处理结果", "sale": "成交",
        "campaign": "活动", "by": "由", "pages": "页", "attempts": "次拨打", "from_record": "客户",
        "updated": "最近更新",
    },
}
