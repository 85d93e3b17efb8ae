//! One verified Slatis route: `SLATIS_WEBHOOK_SECRET=whsec_... cargo run -p axum-minimal`,
//! then `POST http://127.0.0.1:3000/webhooks/slatis` with an `x-slatis-signature` header.

use axum::{Router, routing::post};
use bookhook_axum::{Verified, VerifyLayer};
use bookhook_events::BookingEvent;
use bookhook_verify::{Provider, Verifier};

async fn slatis(Verified(event, ..): Verified<BookingEvent>) -> String {
    format!("ok:{}", event.event_type)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secrets =
        std::env::var("SLATIS_WEBHOOK_SECRET").map_err(|_| "set SLATIS_WEBHOOK_SECRET")?;
    let verifier = Verifier::builder(Provider::Slatis)
        .secrets(&secrets)
        .build()?;
    let app = Router::new().route(
        "/webhooks/slatis",
        post(slatis).layer(VerifyLayer::new(verifier)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
