"""The knowledge base pages' words in each console language."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Knowledge base", "sign_out": "Sign out", "search": "Search", "find": "Find", "newest": "Newest",
        "found": "Found", "none": "No article holds every word.", "empty": "No article yet.", "lang": "Language",
        "zh": "Chinese", "en": "English", "a_title": "Title", "tags": "Tags", "body": "Answer (Markdown)",
        "new_h": "New article", "add": "Add the article", "edit_h": "Edit", "save": "Save", "version": "version",
        "by": "by", "updated": "updated", "back": "All articles", "done": "Done:", "refused": "Refused:",
        "saved": "article {article} saved as version {version}", "read_only": "The training staff keep these.",
        "cite": "Cite it in a case's resolution as {ref}.",
    },
    "zh": {
        "title": "知识库", "sign_out": "退出", "search": "搜索", "find": "查找", "newest": "最新",
        "found": "结果", "none": "没有同时包含这些词的文章。", "empty": "暂无文章。", "lang": "语言",
        "zh": "中文", "en": "英文", "a_title": "标题", "tags": "标签", "body": "解答（Markdown）",
        "new_h": "新文章", "add": "添加文章", "edit_h": "编辑", "save": "保存", "version": "版本",
        "by": "由", "updated": "更新于", "back": "全部文章", "done": "完成：", "refused": "被拒绝：",
        "saved": "文章 {article} 已保存为第 {version} 版", "read_only": "知识库由培训人员维护。",
        "cite": "在工单的处理结果中写 {ref} 即可引用。",
    },
}
