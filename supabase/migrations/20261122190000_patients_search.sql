-- Patient list and search (issue 4; shared/patients/list-patients.ts).
--
-- Only columns and indexes: medchr.patients keeps its forced RLS policy, grants and
-- trigger from 20261122160100_core_tables.sql. Every index leads with tenant_id, so each
-- look-up stays inside one tenant's part of the index.
--
-- Name search is a case-insensitive prefix match on the given or the family name. Under
-- RLS, a query condition that calls a function not marked LEAKPROOF (lower() is not) must
-- be evaluated after the policy, so it can never be an index condition: an expression
-- index on lower(family_name) is silently ignored for the application role. Stored
-- lower-cased copies are plain columns, and starts_with()/text comparisons on them are
-- leakproof, so the planner can use the indexes below (checked with EXPLAIN as medchr_app).
-- COLLATE "C" makes starts_with() usable on a btree whatever the database collation is
-- (PostgreSQL 15+ turns it into a range scan only under C), and fixes the index order.
-- pg_trgm would also find infixes, but PGlite (local and tests) does not load it.
alter table medchr.patients
  add column search_family_name text collate "C" generated always as (lower(family_name)) stored,
  add column search_given_name text collate "C" generated always as (lower(given_name)) stored;

create index patients_tenant_search_family_idx on medchr.patients (tenant_id, search_family_name);
create index patients_tenant_search_given_idx on medchr.patients (tenant_id, search_given_name);

-- Exact date-of-birth search.
create index patients_tenant_dob_idx on medchr.patients (tenant_id, date_of_birth);

-- The list order and its keyset cursor: (created_at, id) never changes after insert, so a
-- walk through the pages neither repeats nor skips a patient when others are added,
-- renamed or deleted meanwhile, and the cursor carries no name (cursors travel in URLs).
create index patients_tenant_created_idx on medchr.patients (tenant_id, created_at, id);
