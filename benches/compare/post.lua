-- wrk script: POST /v1/validations as a TruIdentidad client sends it.
wrk.method = "POST"
wrk.path = "/v1/validations"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Truora-API-Key"] = "bench"
wrk.body = "type=government&account_id=success.bench&user_authorized=true&country=CO"
