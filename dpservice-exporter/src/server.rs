//! The HTTP side: `/metrics` on a hyper HTTP/1 server, everything else 404.

use std::convert::Infallible;
use std::net::TcpListener;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::CONTENT_TYPE;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::source::MetricsSource;

/// Content type of the text exposition format.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves `source` on `listener` until the process ends (or accepting fails).
pub async fn serve(listener: TcpListener, source: Arc<MetricsSource>) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    loop {
        let (stream, _) = listener.accept().await?;
        let source = Arc::clone(&source);
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(req, Arc::clone(&source)));
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "HTTP connection ended with an error");
            }
        });
    }
}

async fn answer(
    req: Request<Incoming>,
    source: Arc<MetricsSource>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path() != "/metrics" {
        return Ok(text(StatusCode::NOT_FOUND, "404 page not found\n".into()));
    }
    // reading the daemon blocks (telemetry socket): keep it off the async threads
    let result = tokio::task::spawn_blocking(move || source.text()).await;
    Ok(match result {
        Ok(Ok(body)) => {
            let mut response = text(StatusCode::OK, body);
            response.headers_mut().insert(
                CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(TEXT_FORMAT),
            );
            response
        }
        Ok(Err(why)) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    })
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
