"""Classification against the plan: topics, kind, agencies, tone, policy links (jieba + transformers)."""
