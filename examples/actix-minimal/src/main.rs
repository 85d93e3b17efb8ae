//! The smallest actix-web receiver of verified Slatis webhooks:
//! `SLATIS_WEBHOOK_SECRET=whsec_... cargo run -p actix-minimal`, then POST to
//! `http://127.0.0.1:3001/webhooks/slatis`.

use std::io;

use actix_web::{App, HttpResponse, HttpServer, web};
use bookhook_actix::bookhook_events::BookingEvent;
use bookhook_actix::bookhook_verify::{Provider, Verifier};
use bookhook_actix::{Verified, VerifyConfig};

/// Runs only for deliveries whose signature matches; anything else got a 4xx already.
async fn slatis(Verified(event, _): Verified<BookingEvent>) -> HttpResponse {
    println!(
        "{} {:?} booking {:?}",
        event.event_type, event.kind, event.booking_id
    );
    HttpResponse::Ok().body("ok")
}

#[actix_web::main]
async fn main() -> io::Result<()> {
    let secrets = std::env::var("SLATIS_WEBHOOK_SECRET")
        .map_err(|_| io::Error::other("set SLATIS_WEBHOOK_SECRET (comma-separated to rotate)"))?;
    let verifier = Verifier::builder(Provider::Slatis)
        .secrets(&secrets)
        .build()
        .map_err(io::Error::other)?;
    let config = VerifyConfig::new(verifier);
    HttpServer::new(move || {
        App::new()
            .app_data(config.clone())
            .route("/webhooks/slatis", web::post().to(slatis))
    })
    .bind(("127.0.0.1", 3001))?
    .run()
    .await
}
