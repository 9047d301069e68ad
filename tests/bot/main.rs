//! Beacon's runtime tests: storage on both backends, and the end-to-end journeys through the
//! real serenity client against the fake Discord in `tests/fake_discord/`.

#[path = "../fake_discord/mod.rs"]
mod fake_discord;

mod browser;
mod context_menu;
mod crisis;
mod db;
mod gate;
mod harness;
mod j1;
mod operator;
mod permissions;
mod process;
mod report;
mod resilience;
mod store;
mod ticket_life;
mod ticket_work;
mod tickets;
mod web;
