-- Documents show their latest job (shared/documents/document-view.ts): one index lookup per document.
create index jobs_document_latest_idx on medchr.jobs (document_id, created_at desc, id desc);
