// A TruIdentidad client on Java's standard library only (java.net.http.HttpClient, JDK 11+),
// written from conformance/README.md's contract alone. Run it from source, no build step:
//
//     java conformance/clients/java/Client.java [--defect NAME]
//
// Polite: a form-encoded create with Truora-API-Key on every request; an 8 s timeout per request
// (under the suite's 10 s, with room for a JVM starved of CPU on its first request);
// polls paced like Truora's SDK (1, 2, 4, 8, 16, 30 s) times a random factor in [1.1, 1.3];
// Retry-After honoured and kept as a floor; exponential back-off (1 s, x2, cap 30 s, same
// jitter) on 5xx, 429, resets and timeouts, giving up after 5 errors in a row; stop at a
// terminal state; give up before TRUORA_POLL_DEADLINE_SECONDS (from the first request). A
// create whose outcome is unknown (no response, or a 5xx other than 503) is not re-sent: the
// client stops and reports it (exit 3, {"validation_status": "error", ...}).
//
// The JDK re-sends an idempotent GET by itself once when the connection is reset before any
// response; the suite counts that as a transport retry, not a poll.
//
// `--defect ignores-retry-after` breaks one rule on purpose (honour-retry-after): it waits its
// own schedule after a 429 instead of the Retry-After.

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class Client {
    static final long[] SCHEDULE_MS = {1000, 2000, 4000, 8000, 16000, 30000};
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(8);
    static final int MAX_ERRORS_IN_A_ROW = 5;
    static final int EXIT_DELIBERATE_ERROR = 3;

    /** A failure worth retrying: no response, 5xx, 429. */
    static final class Transient extends Exception {
        final int status;
        final Optional<Long> retryAfterMs;

        Transient(String message, int status, Optional<Long> retryAfterMs) {
            super(message);
            this.status = status;
            this.retryAfterMs = retryAfterMs;
        }
    }

    /** A failure a retry cannot fix, or a create whose outcome is unknown: stop and report. */
    static final class Fatal extends Exception {
        final String reason;

        Fatal(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    final String base;
    final String key;
    final String accountId;
    final long deadlineMs;
    final boolean ignoresRetryAfter;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();
    long floorMs = 1000;
    long firstRequestAt = -1;

    Client(String base, String key, String accountId, long deadlineMs, boolean ignoresRetryAfter) {
        this.base = base.replaceAll("/+$", "");
        this.key = key;
        this.accountId = accountId;
        this.deadlineMs = deadlineMs;
        this.ignoresRetryAfter = ignoresRetryAfter;
    }

    static void log(String s) {
        System.err.println(s);
    }

    static long now() {
        return System.nanoTime() / 1_000_000;
    }

    static long jittered(long ms) {
        return (long) (ms * ThreadLocalRandom.current().nextDouble(1.1, 1.3));
    }

    static Optional<Long> retryAfter(HttpResponse<String> r) {
        Optional<String> v = r.headers().firstValue("Retry-After").map(String::trim);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        String s = v.get();
        if (s.matches("\\d+")) {
            return Optional.of(Long.parseLong(s) * 1000);
        }
        try {
            ZonedDateTime when = ZonedDateTime.parse(s, DateTimeFormatter.RFC_1123_DATE_TIME);
            return Optional.of(Math.max(0, when.toInstant().toEpochMilli() - System.currentTimeMillis()));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    static Optional<String> field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    String send(HttpRequest.Builder b, String what) throws Transient, Fatal {
        if (firstRequestAt < 0) {
            firstRequestAt = now();
        }
        HttpRequest req = b.timeout(REQUEST_TIMEOUT).header("Truora-API-Key", key).build();
        HttpResponse<String> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new Transient(what + ": " + e, 0, Optional.empty());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Transient(what + ": interrupted", 0, Optional.empty());
        }
        int s = r.statusCode();
        if (s == 429 || s >= 500) {
            throw new Transient(what + ": " + s, s, retryAfter(r));
        }
        if (s >= 400) {
            String body = r.body().length() > 200 ? r.body().substring(0, 200) : r.body();
            throw new Fatal("http_" + s, what + ": " + s + " " + body);
        }
        return r.body();
    }

    long waitAfterError(int errors, Transient e) {
        if (e.retryAfterMs.isPresent() && !ignoresRetryAfter) {
            floorMs = Math.max(floorMs, e.retryAfterMs.get());
            return jittered(Math.max(e.retryAfterMs.get(), 1000));
        }
        return jittered(Math.max(Math.min(1000L << Math.min(errors - 1, 5), 30000), floorMs));
    }

    String create() throws Fatal, InterruptedException {
        String form = "type=government&account_id=" + URLEncoder.encode(accountId, StandardCharsets.UTF_8)
                + "&user_authorized=true";
        int errors = 0;
        while (true) {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/v1/validations"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form));
            try {
                String body = send(b, "POST /v1/validations");
                return field(body, "validation_id")
                        .orElseThrow(() -> new Fatal("no_validation_id", "the create's answer has no validation_id"));
            } catch (Transient e) {
                // 429 and 503 mean "not processed": retry. Anything else may have created it.
                if (e.status != 429 && e.status != 503) {
                    throw new Fatal("create_outcome_unknown", e.getMessage() + "; not re-sending a create that may exist");
                }
                errors++;
                if (errors >= MAX_ERRORS_IN_A_ROW) {
                    throw new Fatal("create_failed", e.getMessage());
                }
                long wait = waitAfterError(errors, e);
                log(e.getMessage() + "; retrying the create in " + wait + " ms");
                Thread.sleep(wait);
            }
        }
    }

    String run() throws Fatal, InterruptedException {
        String id = create();
        log("created " + id);
        int step = 0;
        int errors = 0;
        long wait = jittered(Math.max(SCHEDULE_MS[0], floorMs));
        while (true) {
            if (now() - firstRequestAt + wait > deadlineMs) {
                log(id + ": still pending at the deadline, giving up");
                return "{\"validation_id\": \"" + id + "\", \"validation_status\": \"pending\"}";
            }
            Thread.sleep(wait);
            String body;
            try {
                body = send(HttpRequest.newBuilder(URI.create(base + "/v1/validations/" + id)).GET(),
                        "GET /v1/validations/" + id);
            } catch (Transient e) {
                errors++;
                if (errors >= MAX_ERRORS_IN_A_ROW) {
                    log(id + ": " + errors + " errors in a row, giving up: " + e.getMessage());
                    return "{\"validation_id\": \"" + id + "\", \"validation_status\": \"pending\"}";
                }
                wait = waitAfterError(errors, e);
                log(e.getMessage() + "; backing off " + wait + " ms");
                continue;
            }
            errors = 0;
            String status = field(body, "validation_status").orElse("pending");
            Optional<String> failure = field(body, "failure_status").filter(f -> !f.isEmpty());
            if (status.equals("success") || status.equals("failure") || failure.isPresent()) {
                return "{\"validation_id\": \"" + id + "\", \"validation_status\": \"" + status + "\""
                        + failure.map(f -> ", \"failure_status\": \"" + f + "\"").orElse("") + "}";
            }
            step++;
            wait = jittered(Math.max(SCHEDULE_MS[Math.min(step, SCHEDULE_MS.length - 1)], floorMs));
        }
    }

    public static void main(String[] args) throws InterruptedException {
        String base = System.getenv("TRUORA_API_BASE_URL");
        String key = System.getenv("TRUORA_API_KEY");
        String account = System.getenv("TRUORA_ACCOUNT_ID");
        if (base == null || key == null || account == null) {
            log("TRUORA_API_BASE_URL, TRUORA_API_KEY and TRUORA_ACCOUNT_ID must be set");
            System.exit(2);
        }
        String d = System.getenv().getOrDefault("TRUORA_POLL_DEADLINE_SECONDS", "300");
        boolean ignores = args.length == 2 && args[0].equals("--defect") && args[1].equals("ignores-retry-after");
        Client c = new Client(base, key, account, Long.parseLong(d) * 1000, ignores);
        try {
            System.out.println(c.run());
        } catch (Fatal e) {
            log("error: " + e.getMessage());
            System.out.println("{\"validation_status\": \"error\", \"error\": \"" + e.reason + "\"}");
            System.exit(EXIT_DELIBERATE_ERROR);
        }
    }
}
