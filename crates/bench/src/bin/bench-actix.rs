//! `bench-actix`: the actix-web hello-world behind the adapter-overhead numbers in
//! BENCHMARKS.md.
//!
//! `POST /plain` answers `hello` after buffering the body (`web::Bytes`, as any webhook
//! handler must); `POST /verified` takes `bookhook_actix::VerifiedBody` instead (the
//! extractor verifies while buffering); `POST /middleware/verified` is the plain handler
//! behind the `bookhook_actix::Verify` middleware, and `POST /scoped/plain` the plain handler
//! in the same kind of scope without it (the middleware's baseline). Standard Webhooks, secret
//! `bookhook_bench::STANDARD_SECRET`, real clock. One worker, so that it can be pinned to one
//! core with `taskset`, away from the load generator.
//!
//! `bench-actix [ADDR]` (default `127.0.0.1:18082`); stops on Ctrl-C or SIGTERM.

use actix_web::{App, HttpResponse, HttpServer, web};
use bookhook_actix::{VerifiedBody, Verify, VerifyConfig};
use bookhook_bench::STANDARD_SECRET;
use bookhook_verify::{Provider, Verifier};

async fn hello(body: web::Bytes) -> HttpResponse {
    std::hint::black_box(body);
    HttpResponse::Ok().body("hello")
}

async fn hello_verified(body: VerifiedBody) -> HttpResponse {
    std::hint::black_box(body);
    HttpResponse::Ok().body("hello")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18082".to_owned());
    let verifier = Verifier::builder(Provider::StandardWebhooks)
        .secret(STANDARD_SECRET)
        .build()
        .map_err(std::io::Error::other)?;
    let config = VerifyConfig::new(verifier);
    eprintln!("bench-actix listening on {addr}");
    HttpServer::new(move || {
        App::new()
            .route("/plain", web::post().to(hello))
            .service(
                web::resource("/verified")
                    .app_data(config.clone())
                    .route(web::post().to(hello_verified)),
            )
            // The same scope without the middleware: the fair baseline for `/middleware`,
            // whose routing through a scope costs something of its own.
            .service(web::scope("/scoped").route("/plain", web::post().to(hello)))
            .service(
                web::scope("/middleware")
                    .wrap(Verify::new(config.clone()))
                    .route("/verified", web::post().to(hello)),
            )
    })
    .workers(1)
    .bind(&addr)?
    .run()
    .await
}
