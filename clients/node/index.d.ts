/** Types of the truidentidad-mock Node.js client (index.js). */

export declare const ENV_BIN: 'TRUIDENTIDAD_MOCK_BIN';
export declare const DEFAULT_API_KEY: string;
export declare const ENV_SKIP_VERSION_CHECK: 'TRUIDENTIDAD_MOCK_SKIP_VERSION_CHECK';
/** This package's version; startMock() refuses a binary reporting another. */
export declare const VERSION: string;
/** This machine's platform package, e.g. '@truidentidad-mock/linux-x64'. */
export declare const PLATFORM_PACKAGE: string;
/** $TRUIDENTIDAD_MOCK_BIN, else the platform package's binary, else 'truidentidad-mock' (PATH). */
export declare function findBinary(): string;
/** Throws MockError saying what to do when the binary's --version is not VERSION. */
export declare function checkVersion(binary: string): void;

export interface StartOptions {
  /** The binary; default findBinary(): $TRUIDENTIDAD_MOCK_BIN, the platform package, PATH. */
  binary?: string;
  /** Extra `serve` flags, e.g. ['--scenarios', 'my.toml']. */
  args?: string[];
  /** `--clock manual` (default true): time moves only through advance(). */
  manualClock?: boolean;
  /** `--seed` (default 42); null for a random seed. */
  seed?: number | null;
  /** The only Truora-API-Key accepted (default 'test-key'). */
  apiKey?: string;
  /** `--admin-token`; the handle sends it on every control call. */
  adminToken?: string;
  /** How long to wait for the listening line (default 15000). */
  timeoutMs?: number;
}

/** Forcing an outcome: success, or a failure with its status and reason. */
export type Outcome =
  | { status: 'success' }
  | { status: 'failure'; failure_status: 'declined'; declined_reason: string }
  | { status: 'failure'; failure_status: 'expired'; expired_reason?: string }
  | { status: 'failure'; failure_status: 'system_error' };

export interface Clock {
  mode: 'real' | 'manual';
  now_seconds: number;
  now: string;
}

export interface JournalEntry {
  seq: number;
  method: string;
  path: string;
  kind: 'create' | 'poll' | 'web' | 'web-adapter' | 'control' | 'other';
  validation_id: string | null;
  status: number;
  api_key: 'missing' | 'accepted' | 'rejected' | 'not_required';
  [field: string]: unknown;
}

export interface JournalFilter {
  validationId?: string;
  /** Comma-separated kinds, e.g. 'create,poll'. */
  kind?: string;
  limit?: number;
}

/** A validation as GET /_mock/validations/{id} shows it. */
export interface ValidationDetail {
  validation_id: string;
  account_id: string;
  scenario: string;
  validation_status: 'pending' | 'success' | 'failure';
  failure_status: string | null;
  declined_reason: string | null;
  expired_reason: string | null;
  phase: string;
  [field: string]: unknown;
}

export declare class MockError extends Error {
  /** HTTP status of a refused control call; undefined for start-up failures. */
  status?: number;
  /** The server's answer (Truora's error envelope) when it sent one. */
  body?: unknown;
}

// BEGIN scenario names (generated from the built-in catalogue by tests/client_types.rs;
// regenerate with UPDATE_CLIENT_TYPES=1 cargo test --test client_types)
/** A built-in scenario's name (`truidentidad-mock scenarios list`). */
export type ScenarioName =
  | 'success'
  | 'slow-success'
  | 'declined-face-mismatch'
  | 'declined-registry-mismatch'
  | 'declined-deceased'
  | 'declined-unregistered-document'
  | 'declined-registrar-inconsistency'
  | 'declined-liveness'
  | 'declined-geolocation-denied'
  | 'declined-data-authorization'
  | 'expired-not-finished'
  | 'expired-not-started'
  | 'system-error'
  | 'never-completes'
  | 'flaky-5xx-then-success'
  | 'rate-limited'
  | 'create-rate-limited'
  | 'slow-responses'
  | 'connection-reset-mid-poll'
  | 'stalled-poll'
  | 'malformed-body-once'
  | 'slow-body'
  | 'success-after-polls';
// END scenario names

/**
 * A scenario name: one of the built-in catalogue's, with editor completion, or any name a
 * `--scenarios` file adds.
 */
export type ScenarioArg = ScenarioName | (string & {});

/** One running server (`MockServer` in the Python and Rust helpers too). */
export declare class MockServer {
  readonly url: string;
  readonly apiKey: string;
  readonly adminToken?: string;
  advance(seconds: number): Promise<Clock>;
  complete(validationId: string, outcome?: Outcome): Promise<ValidationDetail>;
  arm(scenario: ScenarioArg, count?: number): Promise<{ armed: number; scenario: string }>;
  journal(filter?: JournalFilter): Promise<JournalEntry[]>;
  validation(validationId: string): Promise<ValidationDetail>;
  reset(): Promise<void>;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** The old name of {@link MockServer}, kept so existing imports still compile. */
export declare const MockHandle: typeof MockServer;
/** The old name of {@link MockServer}, kept so existing imports still compile. */
export type MockHandle = MockServer;

export declare function startMock(options?: StartOptions): Promise<MockServer>;
