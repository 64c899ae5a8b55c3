//! The HTTP ceiling for the tile bench (`benches/tiles.sh`): a minimal axum 0.8 server that
//! answers every `GET` with one fixed body of `N` bytes, with the content type of vector tiles
//! (and `Content-Encoding: gzip` when asked, as gridgov's cached gzipped tiles carry). The
//! cached tile path of `gridgov serve` is measured against it: what is left between the two
//! is the tile handler's own cost (routing, cache lookup, headers).
//!
//! ```text
//! fixed_body --bytes N [--addr 127.0.0.1:18092] [--threads T] [--gzip-header]
//! ```
//!
//! `--threads` is the number of tokio worker threads; by default the number of cores, as
//! `gridgov serve` (tokio's default runtime) has.

use std::net::SocketAddr;

use anyhow::{bail, Context, Result};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::Router;

/// `n` bytes of a fixed pattern (not all zeros, so that nothing between the server and the
/// client could shortcut it).
fn fixed_body(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

/// The media type of Mapbox Vector Tiles (as gridgov sends them).
const MVT_CONTENT_TYPE: &str = "application/vnd.mapbox-vector-tile";

#[derive(Debug)]
struct Options {
    bytes: usize,
    addr: SocketAddr,
    threads: Option<usize>,
    gzip_header: bool,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options> {
    let mut bytes = None;
    let mut o = Options {
        bytes: 0,
        addr: SocketAddr::from(([127, 0, 0, 1], 18092)),
        threads: None,
        gzip_header: false,
    };
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match a.as_str() {
            "--bytes" => bytes = Some(value("--bytes")?.parse().context("--bytes")?),
            "--addr" => o.addr = value("--addr")?.parse().context("--addr")?,
            "--threads" => o.threads = Some(value("--threads")?.parse().context("--threads")?),
            "--gzip-header" => o.gzip_header = true,
            other => bail!("unknown argument {other}; see the top of src/bin/fixed_body.rs"),
        }
    }
    let Some(bytes) = bytes else {
        bail!("--bytes N is required");
    };
    o.bytes = bytes;
    if o.threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    Ok(o)
}

async fn serve(o: Options) -> Result<()> {
    let body = axum::body::Bytes::from(fixed_body(o.bytes));
    let gzip = o.gzip_header;
    let handler = move || {
        let body = body.clone();
        async move {
            let content_type = (
                header::CONTENT_TYPE,
                HeaderValue::from_static(MVT_CONTENT_TYPE),
            );
            if gzip {
                (
                    [
                        content_type,
                        (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
                    ],
                    body,
                )
                    .into_response()
            } else {
                ([content_type], body).into_response()
            }
        }
    };
    let app = Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind(o.addr)
        .await
        .with_context(|| format!("listening on {}", o.addr))?;
    eprintln!(
        "fixed_body: {} bytes on http://{}",
        o.bytes,
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

fn main() -> Result<()> {
    let o = parse(std::env::args().skip(1))?;
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = o.threads {
        rt.worker_threads(n);
    }
    rt.enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(serve(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_need_bytes_and_take_the_rest() {
        let args = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert!(parse(args("--addr 127.0.0.1:1").into_iter()).is_err());
        let o = parse(args("--bytes 12 --threads 2 --gzip-header").into_iter()).unwrap();
        assert_eq!((o.bytes, o.threads, o.gzip_header), (12, Some(2), true));
        assert!(parse(args("--bytes 1 --threads 0").into_iter()).is_err());
        assert_eq!(fixed_body(300).len(), 300);
    }
}
