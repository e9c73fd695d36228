import postgres from "postgres";

/** A transaction handle: the only way request code reaches SQL. */
export type Tx = postgres.TransactionSql<Record<string, unknown>>;
export type Sql = postgres.Sql<Record<string, unknown>>;

/**
 * The role request transactions run as. It has no BYPASSRLS and owns nothing, so
 * row-level security always applies to it (brief section 3).
 */
export const APP_ROLE = "medchr_app";

export interface RequestScope {
  /** Tenant the caller is authenticated for. */
  tenantId: string;
  /** User or API key acting; recorded by audit and triggers. */
  actorId?: string | null;
  requestId: string;
}

export interface Database {
  /** Run `fn` in one transaction, as the application role, scoped to one tenant. */
  withTenant<T>(scope: RequestScope, fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Run `fn` as the application role with no tenant set: every tenant table reads empty.
   * Only for look-ups that happen before the tenant is known, through the narrow
   * SECURITY DEFINER functions (login by email, session by token hash, key by id).
   */
  withoutTenant<T>(scope: { requestId: string }, fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface DatabaseOptions {
  /** Connections in the pool. Workers: 1 (sockets cannot be shared across requests). */
  max?: number;
}

/**
 * Options that work through transaction poolers (Supavisor, Hyperdrive): no prepared
 * statements, no type fetching on connect.
 */
export function connect(url: string, options: DatabaseOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 1,
    prepare: false,
    fetch_types: false,
    connect_timeout: 10,
    idle_timeout: 20,
    onnotice: () => {},
  });
}

export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  const sql = connect(url, options);
  return databaseFromSql(sql);
}

export function databaseFromSql(sql: Sql): Database {
  async function run<T>(
    settings: { tenantId: string; actorId: string; requestId: string },
    fn: (tx: Tx) => Promise<T>,
  ) {
    const result = await sql.begin(async (tx) => {
      // One round trip; set_config('role', ..., true) is SET LOCAL ROLE.
      await tx`select
        set_config('role', ${APP_ROLE}, true),
        set_config('app.tenant_id', ${settings.tenantId}, true),
        set_config('app.actor_id', ${settings.actorId}, true),
        set_config('app.request_id', ${settings.requestId}, true)`;
      return fn(tx);
    });
    return result as T;
  }
  return {
    async withTenant(scope, fn) {
      if (!UUID.test(scope.tenantId)) throw new TypeError("tenantId must be a uuid");
      return run({ tenantId: scope.tenantId, actorId: scope.actorId ?? "", requestId: scope.requestId }, fn);
    },
    withoutTenant(scope, fn) {
      return run({ tenantId: "", actorId: "", requestId: scope.requestId }, fn);
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
