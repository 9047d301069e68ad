//! The web listeners under 1,200 half-open connections: each sends half a request header and
//! then stays silent, from another process (as an attacker's would be). The server process has
//! the common soft limit of 1,024 open files and is not allowed to raise it, so what keeps it
//! answering is the listeners' own bounds, not a bigger limit.
//!
//! Side by side in the same run:
//! - **baseline**: `axum::serve` with its defaults (what Beacon served with before), `/healthz`
//!   on the one port, answering a constant;
//! - **Beacon**: `beacon::web::start` with the defaults of `beacon.toml` and an ops listener, on
//!   SQLite; its `/healthz` writes to the database and checks the gateway flag.
//!
//! For each, while the 1,200 are held: 20 `/healthz` requests one after another, each on a new
//! connection with a 5 s limit, on the ops port and on the public port, and the descriptors the
//! server process holds. Run with `cargo bench --bench sockets` (`BENCH_HALF_OPEN`,
//! default 1200).

use std::io::{BufRead as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt as _;

/// The soft open-file limit of the server process.
const OPEN_FILES: u64 = 1024;
const PROBES: usize = 20;
const PROBE_LIMIT: Duration = Duration::from_secs(5);

fn count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if let Ok(target) = std::env::var("HALF_OPEN_TO") {
        return half_open_client(&target, count("BENCH_HALF_OPEN", 1200));
    }
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).expect("getrlimit");
    rlimit::setrlimit(rlimit::Resource::NOFILE, OPEN_FILES.min(hard), hard).expect("setrlimit");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let n = count("BENCH_HALF_OPEN", 1200);
        println!(
            "{n} half-open connections from another process; this process may open {OPEN_FILES} \
             files\n"
        );
        println!(
            "  {:<34} {:>9} {:>9} {:>9} {:>12}",
            "/healthz", "answered", "p50 ms", "max ms", "descriptors"
        );

        // Baseline: axum's defaults.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let crowd = Crowd::open(&addr.to_string(), n);
        let probes = probe(&format!("http://{addr}/healthz")).await;
        row("baseline (axum::serve), its port", &probes);
        drop(crowd);
        server.abort();

        // Beacon.
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = beacon::store::Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let config = beacon::config::WebConfig {
            listen: "127.0.0.1:0".into(),
            ops_listen: "127.0.0.1:0".into(),
            ..beacon::config::WebConfig::default()
        };
        let gateway = Some(Arc::new(AtomicBool::new(true)));
        let served = beacon::web::start(&config, store.clone(), gateway)
            .await
            .unwrap();
        let public = served.addr.unwrap();
        let ops = served.ops_addr.unwrap();
        let crowd = Crowd::open(&public.to_string(), n);
        let on_ops = probe(&format!("http://{ops}/healthz")).await;
        row("Beacon, ops port", &on_ops);
        let on_public = probe(&format!("http://{public}/healthz")).await;
        row("Beacon, public port", &on_public);
        drop(crowd);
        served.task.abort();
        store.close().await;
        println!(
            "\n(header timeout {} s, public cap {} connections at this limit)",
            config.header_timeout_seconds,
            beacon::web::serve::public_cap(config.max_connections, Some(OPEN_FILES))
        );
    });
}

/// One `/healthz` on a new connection: its time, or `None` past the limit.
async fn get(url: &str) -> Option<Duration> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .ok()?;
    let start = Instant::now();
    let answer = tokio::time::timeout(PROBE_LIMIT, client.get(url).send()).await;
    match answer {
        Ok(Ok(r)) if r.status().is_success() => Some(start.elapsed()),
        _ => None,
    }
}

async fn probe(url: &str) -> Vec<Option<Duration>> {
    let mut out = Vec::new();
    for _ in 0..PROBES {
        out.push(get(url).await);
    }
    out
}

/// The descriptors this process holds now, or "none left" when listing them needs one more
/// than there is.
fn open_fds() -> String {
    std::fs::read_dir("/proc/self/fd").map_or("none left".into(), |d| d.count().to_string())
}

fn row(name: &str, probes: &[Option<Duration>]) {
    let mut ms: Vec<f64> = probes
        .iter()
        .flatten()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let p50 = ms
        .get(ms.len() / 2)
        .map_or("-".into(), |v| format!("{v:.1}"));
    let max = ms.last().map_or("-".into(), |v| format!("{v:.1}"));
    println!(
        "  {name:<34} {:>6}/{PROBES} {p50:>9} {max:>9} {:>12}",
        ms.len(),
        open_fds()
    );
}

/// The half-open connections, held by a child process until dropped.
struct Crowd(Child);

impl Crowd {
    fn open(target: &str, n: usize) -> Crowd {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("HALF_OPEN_TO", target)
            .env("BENCH_HALF_OPEN", n.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the client process");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        // Let the server accept what its kernel queued.
        std::thread::sleep(Duration::from_millis(500));
        println!(
            "  ({} to {target}; descriptors this process holds: {})",
            line.trim(),
            open_fds()
        );
        Crowd(child)
    }
}

impl Drop for Crowd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The child: open `n` connections to `target`, send half a header on each, say how many are
/// open, and hold them until killed.
fn half_open_client(target: &str, n: usize) {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // One after another, as fast as the server's kernel takes them; a connect the kernel
        // does not complete in 250 ms (its queue is full) is given up.
        let mut held = Vec::new();
        for _ in 0..n {
            let connect = tokio::net::TcpStream::connect(target);
            let Ok(Ok(mut s)) = tokio::time::timeout(Duration::from_millis(250), connect).await
            else {
                continue;
            };
            if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: beacon\r\nX-Half: ")
                .await
                .is_ok()
            {
                held.push(s);
            }
        }
        let mut out = std::io::stdout();
        let _ = writeln!(out, "{} of {n} half-open connections held", held.len());
        let _ = out.flush();
        std::future::pending::<()>().await;
    });
}
