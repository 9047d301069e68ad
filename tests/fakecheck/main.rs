#[path = "../fake_discord/mod.rs"] mod fake_discord;
