// The integrator's own TruIdentidad client: nothing here knows about the mock. Tests point
// baseUrl at it instead of https://api.validations.truora.com.
export class TruoraError extends Error {
  constructor(status, body) {
    super(`Truora answered ${status}: ${body}`);
    this.status = status;
  }
}

export class TruoraClient {
  constructor({ baseUrl, apiKey, retries = 3, sleep = (s) => new Promise((r) => setTimeout(r, s * 1000)) }) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.apiKey = apiKey;
    this.retries = retries;
    this.sleep = sleep;
  }

  async create(accountId) {
    const body = new URLSearchParams({ type: 'government', country: 'CO', account_id: accountId });
    return (await this.#send('POST', '/v1/validations', body)).validation_id;
  }

  async get(validationId) {
    const v = await this.#send('GET', `/v1/validations/${encodeURIComponent(validationId)}`);
    return {
      validationId: v.validation_id,
      status: v.validation_status,
      failureStatus: v.failure_status,
      declinedReason: v.declined_reason,
    };
  }

  async #send(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(this.baseUrl + path, {
        method,
        body,
        headers: { 'Truora-API-Key': this.apiKey },
        signal: AbortSignal.timeout(10000),
      });
      if (res.ok) return res.json();
      const retryable = res.status === 429 || res.status >= 500;
      if (!retryable || attempt >= this.retries) throw new TruoraError(res.status, await res.text());
      await this.sleep(Number(res.headers.get('retry-after')) || 1);
    }
  }
}
