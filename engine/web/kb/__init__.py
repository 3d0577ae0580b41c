"""The knowledge base pages (/kb)."""
