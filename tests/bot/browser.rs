//! Headless Chromium for page tests: the status page, the feed and transcripts are loaded in a
//! real browser, read, and screenshotted to `target/screenshots/` for a person to look at.
//!
//! Chromium is driven over the Chrome DevTools Protocol (CDP): one WebSocket to the browser to
//! open tabs, and one per tab. Each connection has a reader task that hands answers to the
//! caller waiting on that id and keeps every event in a log, which `open` waits on for the
//! load and `status` reads for the document's response. Every call has a time limit that
//! panics with the method's name, so a hung browser fails a test instead of hanging CI.
//!
//! Without `/usr/bin/chromium` a test skips with a note on stderr; CI installs it and sets
//! `BEACON_REQUIRE_CHROMIUM`, so there a missing browser fails instead.

use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Notify, oneshot};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const CHROMIUM: &str = "/usr/bin/chromium";
const INSTALL: &str = "apt-get install -y --no-install-recommends chromium fonts-dejavu-core";

/// Long enough for a loaded 2-core machine; only a hung browser waits this long.
const CDP_TIMEOUT: Duration = Duration::from_secs(30);

/// A full-page screenshot of a long transcript arrives as one message, larger than the
/// WebSocket library's default limits.
const MAX_MESSAGE: usize = 256 << 20;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A headless Chromium of its own, with a fresh profile; dropping it kills the browser and
/// removes the profile.
pub struct Browser {
    cdp: Cdp,
    /// `ws://127.0.0.1:PORT`, where each tab has its own endpoint.
    ws_base: String,
    /// Declared last so it is dropped last, after the connection.
    _process: Chromium,
}

impl Browser {
    /// None (with a printed note) when /usr/bin/chromium is missing, unless the environment
    /// variable `BEACON_REQUIRE_CHROMIUM` is set, in which case it panics.
    pub async fn launch() -> Option<Browser> {
        if !Path::new(CHROMIUM).exists() {
            assert!(
                std::env::var_os("BEACON_REQUIRE_CHROMIUM").is_none(),
                "BEACON_REQUIRE_CHROMIUM is set but {CHROMIUM} is missing: {INSTALL}"
            );
            eprintln!("note: browser test skipped, {CHROMIUM} is missing ({INSTALL})");
            return None;
        }
        let (process, devtools_url) = Chromium::start().await;
        let ws_base = match devtools_url.split_once("/devtools/") {
            Some((base, _)) => base.to_owned(),
            None => panic!("unexpected DevTools address from Chromium: {devtools_url}"),
        };
        let cdp = Cdp::connect(&devtools_url).await;
        Some(Browser {
            cdp,
            ws_base,
            _process: process,
        })
    }

    /// A new tab with the given viewport (CSS px) and device-scale 1; `mobile` sets a
    /// phone-like emulation. Navigates to `url` and waits for the load event.
    pub async fn open(&self, url: &str, width: u32, height: u32, mobile: bool) -> Page {
        let target = self
            .cdp
            .call("Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let Some(target_id) = target["targetId"].as_str() else {
            panic!("Target.createTarget gave no targetId: {target}");
        };
        let cdp = Cdp::connect(&format!("{}/devtools/page/{target_id}", self.ws_base)).await;
        cdp.call("Page.enable", json!({})).await;
        cdp.call("Page.setLifecycleEventsEnabled", json!({ "enabled": true }))
            .await;
        cdp.call("Network.enable", json!({})).await;
        let viewport = Viewport {
            width,
            height,
            mobile,
        };
        viewport.emulate(&cdp, height).await;

        let navigation = cdp.call("Page.navigate", json!({ "url": url })).await;
        // An HTTP error with a body is still a page (its status tells); no page at all is not.
        if let Some(error) = navigation["errorText"].as_str() {
            assert!(
                error == "net::ERR_HTTP_RESPONSE_CODE_FAILURE",
                "could not open {url}: {error}"
            );
        }
        let Some(loader_id) = navigation["loaderId"].as_str() else {
            panic!("Page.navigate to {url} gave no loaderId: {navigation}");
        };
        // The lifecycle event names its navigation, unlike Page.loadEventFired, so a late load
        // of the tab's about:blank cannot be mistaken for this one.
        cdp.wait_for_event(&format!("the load event of {url}"), |event| {
            event["method"] == "Page.lifecycleEvent"
                && event["params"]["name"] == "load"
                && event["params"]["loaderId"] == loader_id
        })
        .await;
        Page {
            loader_id: loader_id.to_owned(),
            viewport,
            cdp,
        }
    }
}

/// A tab, opened by [`Browser::open`]; dropping it closes the tab.
pub struct Page {
    cdp: Cdp,
    /// The navigation's id, which is also the request id of its main document.
    loader_id: String,
    viewport: Viewport,
}

impl Page {
    /// Runtime.evaluate with returnByValue (a promise is awaited); panics with the exception
    /// text if the script throws. `undefined` comes back as `Value::Null`.
    pub async fn eval(&self, js: &str) -> Value {
        let mut answer = self
            .cdp
            .call(
                "Runtime.evaluate",
                json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        if let Some(details) = answer.get("exceptionDetails") {
            let why = details["exception"]["description"]
                .as_str()
                .or(details["text"].as_str())
                .unwrap_or("no description");
            panic!("the script threw: {why}\nscript: {js}");
        }
        answer["result"]["value"].take()
    }

    /// `document.body.innerText`: the page's text as a reader sees it.
    pub async fn text(&self) -> String {
        match self.eval("document.body.innerText").await {
            Value::String(text) => text,
            other => panic!("document.body.innerText was not a string: {other}"),
        }
    }

    /// The HTTP status of the main document's response, if one was seen.
    pub fn status(&self) -> Option<u16> {
        let events = self.cdp.shared.events.lock().unwrap();
        let response = events.iter().find(|event| {
            event["method"] == "Network.responseReceived"
                && event["params"]["requestId"] == self.loader_id.as_str()
        })?;
        let status = response["params"]["response"]["status"].as_u64()?;
        u16::try_from(status).ok()
    }

    /// A PNG of the whole page, not just the viewport, written to
    /// `<target dir>/screenshots/<name>.png`; returns that path. For the shot the screen is
    /// as tall as the page, so a `100vh` element is as tall as the page in it.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // The screen is made as tall as the page for the shot. Chromium's own full-page
        // capture (captureBeyondViewport) draws right-to-left pages shifted off the right edge.
        let metrics = self.cdp.call("Page.getLayoutMetrics", json!({})).await;
        let (Some(page_height), Some(scale)) = (
            metrics["cssContentSize"]["height"].as_f64(),
            metrics["cssVisualViewport"]["scale"].as_f64(),
        ) else {
            panic!("Page.getLayoutMetrics gave no content height or scale: {metrics}");
        };
        // CSS px times the phone's zoom (below 1 for a page laid out wider than the phone).
        let tall = ((page_height * scale).round() as u32).max(self.viewport.height);
        self.viewport.emulate(&self.cdp, tall).await;
        let shot = self
            .cdp
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await;
        self.viewport.emulate(&self.cdp, self.viewport.height).await;
        let Some(data) = shot["data"].as_str() else {
            panic!("Page.captureScreenshot gave no data for {name}");
        };

        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(
            &path,
            BASE64_STANDARD
                .decode(data)
                .unwrap_or_else(|e| panic!("a screenshot that is not base64: {e}")),
        )
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        let written = std::fs::read(&path).unwrap();
        assert!(
            written.len() > PNG_SIGNATURE.len() && written.starts_with(PNG_SIGNATURE),
            "{} is not a PNG ({} bytes)",
            path.display(),
            written.len()
        );
        path
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // Queued before the connection closes; no answer is awaited. If the browser is going
        // away too, this simply never arrives.
        self.cdp.send(0, "Page.close", &json!({}));
    }
}

/// The screen a tab emulates, in CSS px at device-scale 1.
struct Viewport {
    width: u32,
    height: u32,
    mobile: bool,
}

impl Viewport {
    /// Emulates this screen, `height` tall.
    async fn emulate(&self, cdp: &Cdp, height: u32) {
        let screen = json!({
            "width": self.width,
            "height": height,
            "deviceScaleFactor": 1,
            "mobile": self.mobile,
        });
        cdp.call("Emulation.setDeviceMetricsOverride", screen).await;
    }
}

/// `$CARGO_TARGET_DIR/screenshots`, or `target/screenshots` in the package.
fn screenshot_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    // An absolute CARGO_TARGET_DIR replaces the manifest directory.
    manifest.join(target).join("screenshots")
}

/// The Chromium process and its profile directory.
struct Chromium {
    child: Child,
    /// Disconnects when Chromium's stderr closes, which is when it and every helper process
    /// that shares the pipe (zygotes, renderers, the network service) have exited.
    stderr_closed: mpsc::Receiver<()>,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Starts Chromium and returns its browser DevTools address, read from its stderr.
    async fn start() -> (Chromium, String) {
        let profile = tempfile::tempdir().expect("a temporary profile directory");
        let mut child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMIUM}: {e}"));
        let stderr = child.stderr.take().unwrap();

        let (address_tx, address_rx) = oneshot::channel();
        let (closed_tx, stderr_closed) = mpsc::channel::<()>();
        // A thread, not a task: reading a pipe blocks. It keeps reading after the address so
        // Chromium never stalls on a full pipe, and drops `closed_tx` when the pipe closes.
        std::thread::spawn(move || {
            let _closed_tx = closed_tx;
            let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
            let mut before = Vec::new();
            let address = loop {
                let Some(line) = lines.next() else {
                    break Err(before.join("\n"));
                };
                match line.strip_prefix("DevTools listening on ") {
                    Some(address) => break Ok(address.trim().to_owned()),
                    None => before.push(line),
                }
            };
            let _ = address_tx.send(address);
            lines.for_each(drop);
        });

        let process = Chromium {
            child,
            stderr_closed,
            _profile: profile,
        };
        let address = match timeout(CDP_TIMEOUT, address_rx).await {
            Ok(Ok(Ok(address))) => address,
            Ok(Ok(Err(stderr))) => panic!("Chromium exited without a DevTools address:\n{stderr}"),
            Ok(Err(_)) => panic!("the thread reading Chromium's stderr died"),
            Err(_) => panic!("Chromium printed no DevTools address in {CDP_TIMEOUT:?}"),
        };
        (process, address)
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Its helpers exit once the browser process is gone; waiting for them lets the
        // profile directory be removed whole. Bounded, in case one lingers.
        let _ = self.stderr_closed.recv_timeout(Duration::from_secs(5));
    }
}

/// One CDP WebSocket connection.
struct Cdp {
    next_id: AtomicU64,
    outgoing: tokio::sync::mpsc::UnboundedSender<Message>,
    shared: Arc<Shared>,
}

/// What the reader task fills in.
#[derive(Default)]
struct Shared {
    /// Callers waiting for the answer with their id.
    pending: Mutex<HashMap<u64, oneshot::Sender<Value>>>,
    /// Every event so far, in order; a test page sends few.
    events: Mutex<Vec<Value>>,
    event_arrived: Notify,
    closed: AtomicBool,
}

impl Cdp {
    async fn connect(url: &str) -> Cdp {
        let config = WebSocketConfig {
            max_message_size: Some(MAX_MESSAGE),
            max_frame_size: Some(MAX_MESSAGE),
            ..WebSocketConfig::default()
        };
        let connecting = tokio_tungstenite::connect_async_with_config(url, Some(config), true);
        let (socket, _) = match timeout(CDP_TIMEOUT, connecting).await {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => panic!("cannot connect to Chromium at {url}: {e}"),
            Err(_) => panic!("connecting to Chromium at {url} took over {CDP_TIMEOUT:?}"),
        };
        let (mut sink, mut stream) = socket.split();

        let (outgoing, mut to_send) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(message) = to_send.recv().await {
                if sink.send(message).await.is_err() {
                    return;
                }
            }
            // The Cdp was dropped: everything queued is sent, so say goodbye.
            let _ = sink.close().await;
        });

        let shared = Arc::new(Shared::default());
        let reader = Arc::clone(&shared);
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(message) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if let Some(id) = message["id"].as_u64() {
                    if let Some(caller) = reader.pending.lock().unwrap().remove(&id) {
                        let _ = caller.send(message);
                    }
                } else {
                    reader.events.lock().unwrap().push(message);
                    reader.event_arrived.notify_waiters();
                }
            }
            // Wakes everyone: callers see their sender dropped, event waiters see `closed`.
            reader.closed.store(true, Ordering::SeqCst);
            reader.pending.lock().unwrap().clear();
            reader.event_arrived.notify_waiters();
        });

        Cdp {
            next_id: AtomicU64::new(1),
            outgoing,
            shared,
        }
    }

    fn send(&self, id: u64, method: &str, params: &Value) -> bool {
        let message = json!({ "id": id, "method": method, "params": params });
        self.outgoing
            .send(Message::Text(message.to_string()))
            .is_ok()
    }

    /// Calls `method` and returns its result; panics if it fails, the connection closes, or
    /// no answer comes within [`CDP_TIMEOUT`].
    async fn call(&self, method: &str, params: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (answer_tx, answer_rx) = oneshot::channel();
        self.shared.pending.lock().unwrap().insert(id, answer_tx);
        assert!(
            !self.shared.closed.load(Ordering::SeqCst) && self.send(id, method, &params),
            "CDP {method}: the connection to Chromium is closed"
        );
        let mut answer = match timeout(CDP_TIMEOUT, answer_rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => panic!("CDP {method}: Chromium closed the connection before answering"),
            Err(_) => panic!("CDP {method}: no answer from Chromium in {CDP_TIMEOUT:?}"),
        };
        if let Some(error) = answer.get("error") {
            panic!("CDP {method} failed: {error}\nparams: {params}");
        }
        answer["result"].take()
    }

    /// Waits for an event that `matches`, including one that already arrived.
    async fn wait_for_event(&self, what: &str, matches: impl Fn(&Value) -> bool) {
        let waiting = async {
            loop {
                // Registered before looking, so an event arriving in between still wakes it.
                let arrived = self.shared.event_arrived.notified();
                if self.shared.events.lock().unwrap().iter().any(&matches) {
                    return;
                }
                assert!(
                    !self.shared.closed.load(Ordering::SeqCst),
                    "Chromium closed the connection while waiting for {what}"
                );
                arrived.await;
            }
        };
        if timeout(CDP_TIMEOUT, waiting).await.is_err() {
            panic!("waited {CDP_TIMEOUT:?} for {what}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::panic::AssertUnwindSafe;

    use futures_util::FutureExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    const ENGLISH: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
        <title>Status</title><h1>Status</h1><p>All systems operational.</p></html>";

    const PERSIAN: &str = "<!doctype html><html lang=\"fa\" dir=\"rtl\"><meta charset=\"utf-8\">\
        <title>وضعیت</title><h1>وضعیت</h1><p>همه سرویس‌ها فعال هستند.</p></html>";

    /// The Persian page with the viewport tag every page meant for phones carries.
    const PERSIAN_FOR_PHONES: &str = "<!doctype html><html lang=\"fa\" dir=\"rtl\">\
        <meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
        <title>وضعیت</title><h1>وضعیت</h1><p>همه سرویس‌ها فعال هستند.</p></html>";

    const NOT_FOUND: &str = "<!doctype html><title>Not found</title><p>No such page.</p>";

    /// Serves `pages` (path, HTML) on 127.0.0.1 and returns the base URL; any other path gets
    /// a 404 page. One request per connection, as plain as HTTP/1.1 allows.
    async fn serve(pages: &[(&str, &str)]) -> String {
        let pages: Arc<Vec<(String, String)>> = Arc::new(
            pages
                .iter()
                .map(|(path, html)| ((*path).to_owned(), (*html).to_owned()))
                .collect(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let pages = Arc::clone(&pages);
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let request = String::from_utf8_lossy(&request);
                    let path = request.split_whitespace().nth(1).unwrap_or("/");
                    let (status, body) = match pages.iter().find(|(p, _)| *p == path) {
                        Some((_, html)) => ("200 OK", html.as_str()),
                        None => ("404 Not Found", NOT_FOUND),
                    };
                    let response = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        base
    }

    /// Where the h1's text sits: (left, right) of its glyphs, and the viewport's width.
    async fn heading_box(page: &Page) -> (f64, f64, f64) {
        let found = page
            .eval(
                "(() => {
                    const range = document.createRange();
                    range.selectNodeContents(document.querySelector('h1'));
                    const box = range.getBoundingClientRect();
                    return [box.left, box.right, document.documentElement.clientWidth];
                })()",
            )
            .await;
        let number = |i: usize| found[i].as_f64().unwrap();
        (number(0), number(1), number(2))
    }

    /// The width and height of the PNG at `path`, from its header; panics if it is not one.
    fn png_size(path: &Path) -> (u32, u32) {
        let bytes = std::fs::read(path).unwrap();
        assert!(
            bytes.starts_with(PNG_SIGNATURE) && bytes.len() > 100 && &bytes[12..16] == b"IHDR",
            "{} is not a PNG",
            path.display()
        );
        let number = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        (number(16), number(20))
    }

    #[tokio::test]
    async fn a_persian_page_reads_right_to_left_and_an_english_one_left_to_right() {
        let Some(browser) = Browser::launch().await else {
            return;
        };
        let base = serve(&[("/en", ENGLISH), ("/fa", PERSIAN)]).await;

        let english = browser.open(&format!("{base}/en"), 800, 600, false).await;
        let persian = browser.open(&format!("{base}/fa"), 800, 600, false).await;

        assert_eq!(english.status(), Some(200));
        assert_eq!(persian.status(), Some(200));
        let text = english.text().await;
        assert!(
            text.contains("Status") && text.contains("All systems operational"),
            "{text}"
        );
        let text = persian.text().await;
        assert!(
            text.contains("وضعیت") && text.contains("همه سرویس‌ها فعال هستند"),
            "{text}"
        );

        let direction = "getComputedStyle(document.documentElement).direction";
        assert_eq!(english.eval(direction).await, "ltr");
        assert_eq!(persian.eval(direction).await, "rtl");

        let (left, right, width) = heading_box(&persian).await;
        assert_eq!(width, 800.0);
        assert!(
            right > width - 40.0,
            "وضعیت ends at {right}, not at the right edge"
        );
        assert!(
            left > width / 2.0,
            "وضعیت starts at {left}, not on the right"
        );
        let (left, right, width) = heading_box(&english).await;
        assert!(left < 40.0, "Status starts at {left}, not at the left edge");
        assert!(
            right < width / 2.0,
            "Status ends at {right}, not on the left"
        );

        let english_png = english.screenshot("browser-english").await;
        let persian_png = persian.screenshot("browser-persian").await;
        assert!(english_png.ends_with("screenshots/browser-english.png"));
        assert_eq!(png_size(&english_png), (800, 600));
        assert_eq!(png_size(&persian_png), (800, 600));
    }

    #[tokio::test]
    async fn a_screenshot_shows_the_whole_page_not_just_the_screen() {
        let Some(browser) = Browser::launch().await else {
            return;
        };
        let rows: String = (1..=60)
            .map(|i| format!("<p style=\"margin:0;height:50px\">پیام {i}</p>"))
            .collect();
        let long = format!(
            "<!doctype html><html lang=\"fa\" dir=\"rtl\"><meta charset=\"utf-8\">\
             <body style=\"margin:0\"><h1 style=\"margin:0;height:100px\">وضعیت</h1>{rows}"
        );
        let base = serve(&[("/long", &long)]).await;
        let page = browser.open(&format!("{base}/long"), 800, 600, false).await;

        let shot = page.screenshot("browser-persian-long").await;

        // 100 px of heading and 60 rows of 50 px.
        assert_eq!(png_size(&shot), (800, 3100));
        // The screen is back to its own size afterwards.
        assert_eq!(
            page.eval("[innerWidth, innerHeight]").await,
            json!([800, 600])
        );
    }

    #[tokio::test]
    async fn a_missing_page_reports_404() {
        let Some(browser) = Browser::launch().await else {
            return;
        };
        let base = serve(&[("/en", ENGLISH)]).await;

        let page = browser
            .open(&format!("{base}/nowhere"), 800, 600, false)
            .await;

        assert_eq!(page.status(), Some(404));
        assert!(page.text().await.contains("No such page."));
    }

    #[tokio::test]
    async fn a_mobile_tab_behaves_like_a_phone() {
        let Some(browser) = Browser::launch().await else {
            return;
        };
        let base = serve(&[("/en", ENGLISH), ("/fa", PERSIAN_FOR_PHONES)]).await;

        let unprepared = browser.open(&format!("{base}/en"), 390, 844, true).await;
        let prepared = browser.open(&format!("{base}/fa"), 390, 844, true).await;

        // Like a real phone: a page without a viewport tag is laid out as a desktop page
        // and shrunk, one with it at the phone's own width.
        assert_eq!(unprepared.eval("window.innerWidth").await, 980);
        assert_eq!(prepared.eval("window.innerWidth").await, 390);
        assert_eq!(prepared.eval("window.devicePixelRatio").await, 1);
        let (left, right, width) = heading_box(&prepared).await;
        assert_eq!(width, 390.0);
        assert!(
            right > width - 40.0 && left > width / 2.0,
            "وضعیت at {left}..{right}"
        );
        let shot = prepared.screenshot("browser-persian-phone").await;
        assert_eq!(png_size(&shot), (390, 844));
        // The shrunk page fills the phone's screen, not two and a half of them.
        let shot = unprepared.screenshot("browser-english-phone").await;
        assert_eq!(png_size(&shot), (390, 844));
    }

    #[tokio::test]
    async fn a_script_that_throws_fails_with_its_message() {
        let Some(browser) = Browser::launch().await else {
            return;
        };
        let page = browser.open("about:blank", 800, 600, false).await;

        let thrown = AssertUnwindSafe(page.eval("throw new Error('the widget is gone')"))
            .catch_unwind()
            .await;

        let message = *thrown.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("the widget is gone"), "{message}");
        // A script that returns nothing is not an error.
        assert_eq!(page.eval("undefined").await, Value::Null);
    }
}
