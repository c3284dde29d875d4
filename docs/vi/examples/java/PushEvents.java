// Chương trình mẫu tối giản: gửi một tệp JSON lines lên hệ thống CCHC qua HTTPS.
//
// Chỉ dùng thư viện chuẩn của Java 11 trở lên (java.net.http), không cần thư viện ngoài.
//
// Biên dịch và chạy:
//   javac -encoding UTF-8 PushEvents.java
//   export CCHC_INGEST_URL=https://<địa chỉ do Bộ cấp>      # mặc định http://127.0.0.1:8081
//   export CCHC_TOKEN_FILE=$HOME/.cchc/token                 # tệp chứa token của tỉnh
//   java PushEvents events.jsonl                 # gửi thật: POST /v1/events
//   java PushEvents --validate events.jsonl      # chạy thử, không lưu gì: POST /v1/validate
//
// Token không bao giờ được ghi trên dòng lệnh (ai trên máy cũng xem được dòng lệnh): chương
// trình đọc nó từ tệp CCHC_TOKEN_FILE (quyền 0600), hoặc từ biến môi trường CCHC_TOKEN.
//
// Mã thoát: 0 — mọi dòng được nhận; 1 — có dòng bị từ chối (xem kết quả in ra);
//           2 — lỗi không gửi được (token sai, lô quá lớn, máy chủ không trả lời).
//
// Tệp được gửi theo từng lô BATCH_LINES dòng. Gửi lại một lô là an toàn: sự kiện trùng
// event_id không bao giờ được đếm hai lần.

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public final class PushEvents {
    /** Số dòng mỗi lô: 1.000 dòng báo cáo thường nhỏ hơn nhiều so với giới hạn một yêu cầu. */
    static final int BATCH_LINES = 1000;
    /** Số lần thử lại một lô khi máy chủ bận (429), lỗi (5xx) hoặc mạng chập chờn. */
    static final int MAX_ATTEMPTS = 5;

    static final Pattern ACCEPTED = Pattern.compile("\"accepted\"\\s*:\\s*(\\d+)");
    static final Pattern REJECTED = Pattern.compile("\"status\"\\s*:\\s*\"rejected\"");

    public static void main(String[] args) throws Exception {
        // In tiếng Việt đúng dấu dù hệ điều hành đặt bảng mã nào.
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
        boolean validate = args.length == 2 && args[0].equals("--validate");
        if (args.length != 1 && !validate) {
            System.err.println("Cách dùng: java PushEvents [--validate] TỆP.jsonl");
            System.exit(2);
        }
        Path file = Path.of(args[args.length - 1]);
        String base = env("CCHC_INGEST_URL", "http://127.0.0.1:8081").replaceAll("/+$", "");
        URI uri = URI.create(base + (validate ? "/v1/validate" : "/v1/events"));
        String token = readToken();

        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        int accepted = 0;
        int rejected = 0;
        for (int start = 0; start < lines.size(); start += BATCH_LINES) {
            int end = Math.min(start + BATCH_LINES, lines.size());
            String body = String.join("\n", lines.subList(start, end)) + "\n";
            HttpResponse<String> response = send(client, uri, token, body);
            String answer = response.body();
            Matcher m = ACCEPTED.matcher(answer);
            int ok = m.find() ? Integer.parseInt(m.group(1)) : 0;
            int bad = countMatches(REJECTED, answer);
            accepted += ok;
            rejected += bad;
            // Số "line" trong kết quả đếm từ đầu lô: dòng trong tệp = line + start.
            System.out.printf("Lô dòng %d–%d: HTTP %d, nhận %d, từ chối %d%n",
                    start + 1, end, response.statusCode(), ok, bad);
            if (bad > 0) {
                System.out.println(answer);
            }
        }
        System.out.printf("%s: nhận %d dòng, từ chối %d dòng.%n",
                validate ? "Chạy thử" : "Đã gửi", accepted, rejected);
        System.exit(rejected == 0 ? 0 : 1);
    }

    /** Gửi một lô, thử lại khi 429 (đợi theo Retry-After), 5xx hoặc lỗi mạng. */
    static HttpResponse<String> send(HttpClient client, URI uri, String token, String body)
            throws InterruptedException {
        long waitMillis = 1000;
        for (int attempt = 1; ; attempt++) {
            HttpRequest request = HttpRequest.newBuilder(uri)
                    .timeout(Duration.ofSeconds(60))
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/x-ndjson")
                    .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                    .build();
            try {
                HttpResponse<String> response =
                        client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                int status = response.statusCode();
                if (status == 401) {
                    fail("Token không hợp lệ hoặc đã bị thu hồi (401): xin token mới từ đơn vị vận hành.");
                }
                if (status == 413) {
                    fail("Lô quá lớn (413): giảm BATCH_LINES hoặc kích thước từng dòng.");
                }
                if (status < 400) {
                    return response;
                }
                if (status != 429 && status < 500) {
                    fail("Máy chủ từ chối yêu cầu (HTTP " + status + "): " + response.body());
                }
                if (attempt >= MAX_ATTEMPTS) {
                    fail("Máy chủ vẫn trả HTTP " + status + " sau " + attempt + " lần thử.");
                }
                if (status == 429) {
                    // Tỉnh tạm bị dừng vì quá nhiều thư lỗi: đợi đúng thời gian máy chủ yêu cầu.
                    waitMillis = 1000L * response.headers().firstValue("Retry-After")
                            .map(PushEvents::seconds).orElse(30L);
                    System.err.printf("Tạm dừng (429): đợi %d giây rồi gửi lại.%n", waitMillis / 1000);
                }
            } catch (IOException e) {
                if (attempt >= MAX_ATTEMPTS) {
                    fail("Không kết nối được " + uri + ": " + e.getMessage());
                }
                System.err.printf("Lỗi mạng (%s): thử lại sau %d giây.%n", e.getMessage(), waitMillis / 1000);
            }
            Thread.sleep(waitMillis);
            waitMillis = Math.min(waitMillis * 2, 60_000);
        }
    }

    static String readToken() throws IOException {
        String path = System.getenv("CCHC_TOKEN_FILE");
        String token = path != null && !path.isEmpty()
                ? Files.readString(Path.of(path), StandardCharsets.UTF_8)
                : env("CCHC_TOKEN", "");
        token = token.strip();
        if (!token.startsWith("cchc_")) {
            fail("Chưa có token: đặt CCHC_TOKEN_FILE (tệp chứa token) hoặc CCHC_TOKEN.");
        }
        return token;
    }

    static long seconds(String value) {
        try {
            return Math.max(0, Long.parseLong(value.trim()));
        } catch (NumberFormatException e) {
            return 30;
        }
    }

    static int countMatches(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    static void fail(String message) {
        System.err.println(message);
        System.exit(2);
    }
}
