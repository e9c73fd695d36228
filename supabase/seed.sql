-- Intentionally empty: no credentials or PHI in SQL seed files.
-- The local stack (npm start) seeds a demo clinic and admin on first start, hashing the
-- generated password with the dev pepper; production is bootstrapped by an operator.
select 1;
