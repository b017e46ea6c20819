//! The `tailor` command line.

use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tailor_core::model::ScoreParams;
use tailor_core::train::TrainParams;
use tailor_server::catalog::Catalog;
use tailor_server::eval_cmd;
use tailor_server::store::Store;
use tailor_server::{app, AppState};

#[derive(Parser)]
#[command(name = "tailor", version, about = "Tailor's sync server and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the event endpoint, the snapshot, the browser engine and the storefront.
    Serve(ServeArgs),
    /// Train on one file, replay another through the browser's scoring path, report quality.
    Eval(EvalArgs),
    /// Evaluate next-order date prediction on an Instacart-style order file.
    EvalCadence(CadenceArgs),
    /// Train a new snapshot version of a site from its stored events (a running server picks
    /// it up at once).
    BuildSnapshot(BuildArgs),
    /// Import a catalog (Shopify products.json, or a Merchant Center style CSV/TSV feed).
    ImportCatalog(ImportCatalogArgs),
    /// Import past events (our JSON lines, or session-rec TSV) into the database.
    ImportEvents(ImportEventsArgs),
    /// Benchmarks of the server on this machine: ingest throughput and latency, snapshot build.
    Bench(BenchArgs),
    /// What personalization earns: attribution per slot, each experiment and the holdout with
    /// 95% intervals, lifecycle segments (docs/reports.md).
    Report(ReportArgs),
    /// Write each known customer's lifecycle stage, tastes, cadence and best send time as CSV
    /// or JSON lines, for email tools and ad audiences.
    ExportProfiles(ExportArgs),
}

#[derive(Parser)]
struct ReportArgs {
    /// The site key.
    #[arg(long, default_value = "demo")]
    site: String,
    /// SQLite database file.
    #[arg(long, default_value = "tailor.db")]
    db: PathBuf,
    /// tailor.toml whose `[site.store]` experiments and segment thresholds the report uses
    /// (without it: the default holdout share and experiments found in exposures).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    /// The report's clock, ms since the epoch (default: now).
    #[arg(long)]
    now: Option<i64>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormatArg {
    /// CSV with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

#[derive(Parser)]
struct ExportArgs {
    /// The site key.
    #[arg(long, default_value = "demo")]
    site: String,
    /// SQLite database file.
    #[arg(long, default_value = "tailor.db")]
    db: PathBuf,
    /// Catalog JSON file (categories and prices).
    #[arg(long, default_value = "www/catalog.json")]
    catalog: PathBuf,
    /// tailor.toml whose segment thresholds apply.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    format: ExportFormatArg,
    /// Write here instead of standard output (atomically: a temporary file, then a rename).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Include shoppers who never ordered.
    #[arg(long)]
    all: bool,
    /// The export's clock, ms since the epoch (default: now).
    #[arg(long)]
    now: Option<i64>,
}

#[derive(Parser)]
struct BenchArgs {
    /// Concurrent ingest clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds per ingest run.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Stored events for the snapshot build.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Catalog size for the snapshot build.
    #[arg(long, default_value_t = 50_000)]
    items: u64,
    /// Run only one part: `ingest` or `build`.
    #[arg(long, value_parser = ["ingest", "build"])]
    only: Option<String>,
}

#[derive(Parser)]
struct ImportCatalogArgs {
    /// The site key.
    #[arg(long, default_value = "demo")]
    site: String,
    /// The catalog file to replace (atomically; its version increases).
    #[arg(long, default_value = "www/catalog.json")]
    catalog: PathBuf,
    /// products.json, or a CSV/TSV feed with `id` and `title` columns.
    file: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum EventsFormat {
    /// JSON lines of Tailor events (docs/events.md).
    Events,
    /// Tab-separated `SessionId ItemId Time` (seconds); each row becomes a product view.
    SessionRec,
}

#[derive(Parser)]
struct ImportEventsArgs {
    /// The site key.
    #[arg(long, default_value = "demo")]
    site: String,
    /// SQLite database file.
    #[arg(long, default_value = "tailor.db")]
    db: PathBuf,
    /// Input format.
    #[arg(long, value_enum, default_value = "events")]
    format: EventsFormat,
    /// The file to import.
    file: PathBuf,
}

#[derive(Parser)]
struct BuildArgs {
    /// The site key.
    #[arg(long, default_value = "demo")]
    site: String,
    /// SQLite database file.
    #[arg(long, default_value = "tailor.db")]
    db: PathBuf,
    /// Catalog JSON file.
    #[arg(long, default_value = "www/catalog.json")]
    catalog: PathBuf,
    /// Snapshot versions to keep.
    #[arg(long, default_value_t = 5)]
    keep_versions: usize,
    /// tailor.toml whose `[site.store]` configuration goes into the snapshot (without it, the
    /// default one: give the running server's, or its experiments and placements are lost).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Parser)]
struct CadenceArgs {
    /// CSV with `user_id`, `order_number` and `days_since_prior_order` columns.
    #[arg(long)]
    orders: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum EvalFormat {
    /// Tab-separated `SessionId ItemId Time` with a header (the session-rec framework's format).
    SessionRec,
    /// JSON lines of Tailor events (docs/events.md); product views form the sessions.
    Events,
}

#[derive(Parser)]
struct EvalArgs {
    /// Training sessions.
    #[arg(long)]
    train: PathBuf,
    /// Test sessions: every prefix predicts the next event.
    #[arg(long)]
    test: PathBuf,
    /// Input format of both files.
    #[arg(long, value_enum, default_value = "session-rec")]
    format: EvalFormat,
    /// Write one JSON line per test event: {session, position, target, ranked}.
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Largest snapshot in bytes once brotli-compressed; the trainer shrinks the session sample,
    /// then the neighbour lists, to fit.
    #[arg(long, default_value_t = 1_000_000)]
    max_snapshot_brotli: usize,
    /// Fixing any of the weights below turns off tuning (by default the trainer tunes recency
    /// and sequential weights on a validation split of the training file).
    ///
    /// Session-kNN: how many most-similar sessions vote [default: 100].
    #[arg(long)]
    k: Option<usize>,
    /// Session-kNN: candidate sessions considered per shared item, most recent first [default: 500].
    #[arg(long)]
    sample: Option<usize>,
    /// Weight of the sequential neighbour lists [default: tuned].
    #[arg(long)]
    sequential: Option<f32>,
    /// Weight of the popularity prior [default: 0.01].
    #[arg(long)]
    popularity: Option<f32>,
    /// Decay of older items in the current session, 1/d^recency [default: tuned].
    #[arg(long)]
    recency: Option<f32>,
    /// Inverse-document-frequency weight of shared items, 0 = off [default: 0].
    #[arg(long)]
    idf: Option<f32>,
    /// Extra weight of items that came after the shared item in a neighbour session [default: 1].
    #[arg(long)]
    forward: Option<f32>,
    /// Sessions kept in the snapshot's sample.
    #[arg(long, default_value_t = TrainParams::default().max_sessions)]
    max_sessions: usize,
    /// Neighbour list length per item.
    #[arg(long, default_value_t = TrainParams::default().top_k)]
    top_k: usize,
}

#[derive(Parser)]
struct ServeArgs {
    /// A tailor.toml (see config.example.toml). When given, it replaces every other option.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on, as IP:PORT (e.g. 127.0.0.1:8080). Port 0 picks a free port (the
    /// chosen one is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// SQLite database file (created if missing).
    #[arg(long, default_value = "tailor.db")]
    db: PathBuf,
    /// The site key this server hosts.
    #[arg(long, default_value = "demo")]
    site: String,
    /// Catalog JSON file.
    #[arg(long, default_value = "www/catalog.json")]
    catalog: PathBuf,
    /// Storefront folder.
    #[arg(long, default_value = "www")]
    www: PathBuf,
    /// Folder with the built engine (tailor.js, tailor.worker.js, tailor_bg.wasm).
    #[arg(long, default_value = "dist")]
    dist: PathBuf,
    /// Snapshot versions to keep.
    #[arg(long, default_value_t = 5)]
    keep_versions: usize,
    /// Rebuild the snapshot this often (seconds) when new events arrived or the catalog file
    /// changed; 0 = only on `tailor build-snapshot`.
    #[arg(long, default_value_t = 300)]
    rebuild_every: u64,
    /// An origin allowed to post events (repeat for several); none given = any origin.
    /// Batches from other origins get 202 and are dropped.
    #[arg(long)]
    allowed_origin: Vec<String>,
    /// Event batches per second the site may send, sustained.
    #[arg(long, default_value_t = 500.0)]
    rate_per_sec: f64,
    /// Event batches the site may send in a burst.
    #[arg(long, default_value_t = 1000.0)]
    rate_burst: f64,
    /// Requests handled at once; more are answered 503 at once.
    #[arg(long, default_value_t = 256)]
    max_in_flight: usize,
    /// Seconds a client has to send its request line and headers.
    #[arg(long, default_value_t = 10.0)]
    header_timeout: f64,
    /// Seconds a client has to send an event batch's or a profile's body (slower: 408).
    #[arg(long, default_value_t = 10.0)]
    body_timeout: f64,
    /// Log format on stderr: text or json.
    #[arg(long, default_value = "text")]
    log_format: String,
    /// Log level: error, warn, info, debug (one line per request) or trace. TAILOR_LOG
    /// overrides it.
    #[arg(long, default_value = "info")]
    log_level: String,
    /// Bearer token for /admin and /v1/admin/... (at least 16 characters); none = those pages
    /// are off. Prefer `admin_token` in a tailor.toml: a command line is visible to other
    /// users of the machine.
    #[arg(long, default_value = "")]
    admin_token: String,
}

/// Print a line to stdout, ignoring a closed stdout: a server must not die because whoever
/// started it stopped reading its output.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Eval(args) => eval(args),
        Command::EvalCadence(args) => eval_cadence(args),
        Command::BuildSnapshot(args) => build_snapshot(args),
        Command::ImportCatalog(args) => import_catalog(args),
        Command::ImportEvents(args) => import_events(args),
        Command::Bench(args) => bench(args),
        Command::Report(args) => report(args),
        Command::ExportProfiles(args) => export_profiles(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("tailor: error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// The weights given on the command line, or `None` (tune) when none was given.
fn fixed_weights(a: &EvalArgs) -> Option<ScoreParams> {
    let any = a.k.is_some()
        || a.sample.is_some()
        || a.sequential.is_some()
        || a.popularity.is_some()
        || a.recency.is_some()
        || a.idf.is_some()
        || a.forward.is_some();
    if !any {
        return None;
    }
    let d = ScoreParams::default();
    Some(ScoreParams {
        k: a.k.unwrap_or(d.k),
        sample: a.sample.unwrap_or(d.sample),
        sequential: a.sequential.unwrap_or(d.sequential),
        popularity: a.popularity.unwrap_or(d.popularity),
        recency: a.recency.unwrap_or(d.recency),
        idf: a.idf.unwrap_or(d.idf),
        forward: a.forward.unwrap_or(d.forward),
    })
}

fn eval(args: EvalArgs) -> Result<(), String> {
    let score = fixed_weights(&args);
    let opts = eval_cmd::EvalOptions {
        format: match args.format {
            EvalFormat::SessionRec => eval_cmd::Format::SessionRec,
            EvalFormat::Events => eval_cmd::Format::Events,
        },
        max_snapshot_brotli: args.max_snapshot_brotli,
        train: args.train,
        test: args.test,
        predictions: args.predictions,
        json: args.json,
        score,
        train_params: TrainParams {
            max_sessions: args.max_sessions,
            top_k: args.top_k,
            ..TrainParams::default()
        },
    };
    let report = eval_cmd::run(&opts)?;
    eval_cmd::print(&report, opts.json);
    Ok(())
}

fn eval_cadence(args: CadenceArgs) -> Result<(), String> {
    let r = tailor_server::cadence_cmd::run(&args.orders)?;
    if args.json {
        tailor_server::out!(
            "{}",
            serde_json::json!({
                "users": r.users, "typical_gap_days": r.typical_gap_days,
                "mae_profile": r.mae_profile, "mae_global_mean": r.mae_global_mean,
                "mae_last_gap": r.mae_last_gap,
            })
        );
    } else {
        tailor_server::out!("users evaluated           {}", r.users);
        tailor_server::out!(
            "store's typical gap       {:.1} days (median of observed gaps)",
            r.typical_gap_days
        );
        tailor_server::out!("MAE, Tailor profile       {:.3} days", r.mae_profile);
        tailor_server::out!("MAE, global mean gap      {:.3} days", r.mae_global_mean);
        tailor_server::out!("MAE, user's last gap      {:.3} days", r.mae_last_gap);
    }
    Ok(())
}

fn bench(args: BenchArgs) -> Result<(), String> {
    let ingest = args.only.as_deref() != Some("build");
    let build = args.only.as_deref() != Some("ingest");
    let ingested = if ingest {
        Some(tailor_server::bench_cmd::ingest(
            args.clients,
            args.seconds,
        )?)
    } else {
        None
    };
    let built = if build {
        Some(tailor_server::bench_cmd::build(args.events, args.items)?)
    } else {
        None
    };
    tailor_server::out!("| benchmark | result |");
    tailor_server::out!("|---|---:|");
    if let Some((full, half)) = ingested {
        tailor_server::out!(
            "| ingest, {} clients, 50-event batches, durable commits | {:.0} events/s ({} errors) |",
            args.clients, full.events_per_sec, full.errors
        );
        tailor_server::out!(
            "| ingest at half that load ({:.0} events/s): batch latency p50 / p99 | {:.2} ms / {:.2} ms |",
            half.events_per_sec, half.p50_ms, half.p99_ms
        );
    }
    if let Some((secs, b)) = built {
        tailor_server::out!(
            "| snapshot build, {} events over {} items | {:.2} s ({} bytes, {} brotli) |",
            args.events,
            args.items,
            secs,
            b.bytes,
            b.brotli
        );
        tailor_server::out!(
            "| of which: read events / train / encode and compress | {:.2} s / {:.2} s / {:.2} s |",
            b.load_seconds,
            b.train_seconds,
            b.compress_seconds
        );
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The database at `path`, which must exist (a report of a mistyped path is an error, not an
/// empty report).
fn existing_db(path: &std::path::Path) -> Result<Store, String> {
    if !path.is_file() {
        return Err(format!("database {} does not exist", path.display()));
    }
    Store::open(path).map_err(|e| format!("cannot open database {}: {e}", path.display()))
}

fn store_config(path: &Option<PathBuf>) -> Result<tailor_core::config::StoreConfig, String> {
    Ok(match path {
        Some(path) => tailor_server::config::ServerConfig::load(path)?.site.store,
        None => Default::default(),
    })
}

fn report(args: ReportArgs) -> Result<(), String> {
    let store = existing_db(&args.db)?;
    let config = store_config(&args.config)?;
    let r = tailor_server::report_cmd::report(
        &store,
        &args.site,
        &config,
        args.now.unwrap_or_else(now_ms),
    )
    .map_err(|e| format!("reading events failed: {e}"))?;
    if r.events == 0 {
        eprintln!(
            "tailor: site '{}' has no stored events in {}",
            args.site,
            args.db.display()
        );
    }
    if args.json {
        say!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
    } else {
        say!("{}", tailor_server::report_cmd::text(&r).trim_end());
    }
    Ok(())
}

fn export_profiles(args: ExportArgs) -> Result<(), String> {
    use tailor_server::report_cmd::{export_text, ExportFormat};
    let store = existing_db(&args.db)?;
    let config = store_config(&args.config)?;
    let catalog = Catalog::load(&args.catalog).map_err(|e| e.to_string())?;
    let records = tailor_server::report_cmd::profiles(
        &store,
        &args.site,
        &catalog,
        &config,
        args.now.unwrap_or_else(now_ms),
        args.all,
    )
    .map_err(|e| format!("reading events failed: {e}"))?;
    let format = match args.format {
        ExportFormatArg::Csv => ExportFormat::Csv,
        ExportFormatArg::Jsonl => ExportFormat::Jsonl,
    };
    let text = export_text(&records, format);
    match &args.out {
        Some(path) => {
            let tmp = path.with_extension("tmp-export");
            std::fs::write(&tmp, &text)
                .and_then(|_| std::fs::rename(&tmp, path))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "tailor: site '{}': wrote {} customers to {}",
                args.site,
                records.len(),
                path.display()
            );
        }
        None => {
            use std::io::Write as _;
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| format!("cannot write to standard output: {e}"))?;
        }
    }
    Ok(())
}

fn import_catalog(args: ImportCatalogArgs) -> Result<(), String> {
    let r = tailor_server::import::import_catalog(&args.file, &args.catalog)?;
    tailor_server::out!(
        "tailor: site '{}': imported {} products into {} (catalog version {})",
        args.site,
        r.products,
        args.catalog.display(),
        r.version
    );
    Ok(())
}

fn import_events(args: ImportEventsArgs) -> Result<(), String> {
    let store = Store::open(&args.db)
        .map_err(|e| format!("cannot open database {}: {e}", args.db.display()))?;
    let session_rec = matches!(args.format, EventsFormat::SessionRec);
    let r = tailor_server::import::import_events(&store, &args.site, &args.file, session_rec)?;
    let forgotten = if r.forgotten > 0 {
        format!(", {} of forgotten shoppers left out", r.forgotten)
    } else {
        String::new()
    };
    tailor_server::out!(
        "tailor: site '{}': stored {} events ({} already stored{forgotten}); run `tailor build-snapshot` to train on them",
        args.site, r.inserted, r.duplicates
    );
    Ok(())
}

fn build_snapshot(args: BuildArgs) -> Result<(), String> {
    let catalog = Catalog::load(&args.catalog).map_err(|e| e.to_string())?;
    // (A mistyped path would train an empty new database and report success.)
    let store = existing_db(&args.db)?;
    eprintln!(
        "tailor: training site '{}' from {}",
        args.site,
        args.db.display()
    );
    if args.config.is_none() {
        eprintln!(
            "tailor: no --config: the snapshot carries the default store configuration (no experiments, placements, banners or segments of yours); pass the server's config file to keep them"
        );
    }
    let store_config = store_config(&args.config)?;
    let b = tailor_server::snapshot::rebuild(
        &store,
        &catalog,
        &store_config,
        &args.site,
        args.keep_versions,
    )
    .map_err(|e| format!("building the snapshot failed: {e}"))?;
    tailor_server::out!(
        "tailor: site '{}': snapshot version {} ({} bytes, {} brotli) from {} events in {:.2} s",
        args.site,
        b.version,
        b.bytes,
        b.brotli,
        b.events,
        b.seconds
    );
    Ok(())
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let args = match &args.config {
        Some(path) => {
            let c = tailor_server::config::ServerConfig::load(path)?;
            return serve_with(c);
        }
        None => args,
    };
    let c = tailor_server::config::ServerConfig {
        addr: args.addr,
        db: args.db,
        www: args.www,
        dist: args.dist,
        keep_versions: args.keep_versions,
        rebuild_every_secs: args.rebuild_every,
        max_in_flight: args.max_in_flight,
        header_timeout_secs: args.header_timeout,
        body_timeout_secs: args.body_timeout,
        log_format: args.log_format,
        log_level: args.log_level,
        site: tailor_server::config::SiteConfig {
            key: args.site,
            allowed_origins: args.allowed_origin,
            catalog: args.catalog,
            rate_per_sec: args.rate_per_sec,
            rate_burst: args.rate_burst,
            admin_token: args.admin_token,
            ..Default::default()
        },
    };
    serve_with(c)
}

/// Structured logs on stderr.
fn init_logs(format: &str, level: &str) -> Result<(), String> {
    let level = std::env::var("TAILOR_LOG").unwrap_or_else(|_| level.to_owned());
    let level = tailor_server::config::parse_level(&level).ok_or_else(|| {
        format!("log level must be one of error, warn, info, debug, trace; got {level:?}")
    })?;
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false);
    let r = match format {
        "json" => builder.json().try_init(),
        "text" => builder.with_ansi(false).try_init(),
        other => return Err(format!("log format must be text or json; got {other:?}")),
    };
    r.map_err(|e| format!("cannot start logging: {e}"))
}

fn serve_with(c: tailor_server::config::ServerConfig) -> Result<(), String> {
    c.validate()?;
    init_logs(&c.log_format, &c.log_level)?;
    let timeouts = tailor_server::net::Timeouts {
        header: std::time::Duration::from_secs_f64(c.header_timeout_secs),
        body: std::time::Duration::from_secs_f64(c.body_timeout_secs),
    };
    let args = ServeOptions {
        addr: c.addr,
        db: c.db,
        site: c.site.key.clone(),
        catalog: c.site.catalog.clone(),
        www: c.www,
        dist: c.dist,
        keep_versions: c.keep_versions,
        rebuild_every: c.rebuild_every_secs,
        allowed_origin: c.site.allowed_origins.clone(),
        rate_per_sec: c.site.rate_per_sec,
        rate_burst: c.site.rate_burst,
        max_in_flight: c.max_in_flight,
        write_key: c.site.write_key.clone(),
        store_config: c.site.store.clone(),
        adapter: c.site.adapter.clone(),
        admin_token: c.site.admin_token.clone(),
    };
    // (Taken first: a catalog replaced while this one loads is read again, `watch_catalog`.)
    let catalog_stamp = tailor_server::file_stamp(&args.catalog);
    let catalog = Catalog::load(&args.catalog).map_err(|e| e.to_string())?;
    // The data directory is created on first start; after that, a directory that goes away
    // (or a database that cannot be opened) puts the server in a degraded state (/ready and
    // event posts answer 503) until it is back, instead of stopping it.
    if let Some(dir) = args.db.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot create the data directory");
            }
        }
    }
    let (store, failure) = tailor_server::store::ReopeningStore::new(&args.db);
    if let Some(e) = &failure {
        tracing::error!(
            error = %e,
            "storage unavailable at start; event posts and /ready answer 503 until it opens"
        );
    }
    let stored = if failure.is_none() {
        use tailor_server::store::EventStore as _;
        store.event_count(&args.site).map_err(|e| e.to_string())?
    } else {
        0
    };
    if !args.www.is_dir() {
        tracing::warn!(
            folder = %args.www.display(),
            "storefront folder does not exist; only the API and the engine are served"
        );
    }
    for file in ["tailor.js", "tailor.worker.js", "tailor_bg.wasm"] {
        if !args.dist.join(file).is_file() {
            tracing::warn!(
                file = %args.dist.join(file).display(),
                "engine file missing; pages are not personalized until `make build` runs"
            );
        }
    }
    let products = catalog.products.len();
    let limits = tailor_server::limits::Limits {
        allowed_origins: args.allowed_origin.clone(),
        rate_per_sec: args.rate_per_sec,
        rate_burst: args.rate_burst,
        max_in_flight: args.max_in_flight,
    };
    let mut state = AppState::with_limits(
        args.site.clone(),
        catalog,
        store,
        args.dist,
        args.www,
        limits,
    );
    state.keep_versions = args.keep_versions;
    state.write_key = args.write_key;
    state.store_config = args.store_config;
    state.adapter = args.adapter;
    state.admin_token = args.admin_token;
    state.timeouts = timeouts;
    // (`tailor import-catalog` replaces the file: the scheduled check reads it again.)
    let state = Arc::new(state.watch_catalog(args.catalog.clone(), catalog_stamp));
    let rebuild_every = args.rebuild_every;
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| format!("cannot start runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .map_err(|e| {
                format!(
                    "cannot listen on {}: {e} (choose another with --addr)",
                    args.addr
                )
            })?;
        // Install the signal handlers before announcing the address.
        let signal = shutdown_signal();
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        say!(
            "tailor: site '{}': {products} products, {stored} stored events, database {}",
            args.site,
            args.db.display()
        );
        if rebuild_every > 0 {
            tokio::spawn(rebuild_on_schedule(state.clone(), rebuild_every));
        }
        tracing::info!(
            addr = %local,
            site = %args.site,
            products,
            stored_events = stored,
            "listening"
        );
        say!("tailor: listening on http://{local}");
        say!("tailor: demo store at http://{local}/collection.html  (Ctrl-C to stop)");
        // On SIGTERM or Ctrl-C: stop accepting, let requests in flight finish, and exit within
        // DRAIN even if some connection lingers.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            signal.await;
            say!(
                "tailor: stopping: draining requests (at most {} s)",
                DRAIN.as_secs()
            );
            tracing::info!(drain_secs = DRAIN.as_secs(), "stopping");
            let _ = stop_tx.send(true);
        });
        let mut graceful = stop_rx.clone();
        let server = tailor_server::net::serve(listener, app(state), timeouts.header, async move {
            let _ = graceful.wait_for(|stop| *stop).await;
        });
        let mut deadline = stop_rx;
        tokio::select! {
            r = server => r.map_err(|e| format!("server error: {e}")),
            _ = async move {
                let _ = deadline.wait_for(|stop| *stop).await;
                tokio::time::sleep(DRAIN).await;
            } => {
                tracing::warn!(drain_secs = DRAIN.as_secs(), "drain took too long; exiting");
                Ok(())
            }
        }
    })
}

/// The resolved options of `tailor serve`.
struct ServeOptions {
    addr: SocketAddr,
    db: PathBuf,
    site: String,
    catalog: PathBuf,
    www: PathBuf,
    dist: PathBuf,
    keep_versions: usize,
    rebuild_every: u64,
    allowed_origin: Vec<String>,
    rate_per_sec: f64,
    rate_burst: f64,
    max_in_flight: usize,
    write_key: String,
    store_config: tailor_core::config::StoreConfig,
    adapter: tailor_server::config::AdapterConfig,
    admin_token: String,
}

/// The longest a shutdown waits for requests in flight.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// A future that completes on SIGTERM or Ctrl-C. The handlers are installed when this is
/// called (not when it is first polled), so a signal that arrives right after the server says
/// it is listening is never missed.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).ok();
        let mut int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term.take()) => {}
                _ = wait(int.take()) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Every `secs` seconds, train a new snapshot version when events arrived or were forgotten
/// since the last one, or when the catalog file changed (`tailor import-catalog`; a version is
/// stored only if the bytes differ): `AppState::scheduled_rebuild`.
async fn rebuild_on_schedule(state: Arc<AppState>, secs: u64) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(secs));
    tick.tick().await;
    // The first check after a start also trains when no event came: this server's catalog and
    // store configuration may differ from those of the latest snapshot (a restart with an edited
    // config, a `build-snapshot` without one). It stores a version only if the bytes differ.
    let mut first = true;
    loop {
        tick.tick().await;
        let st = state.clone();
        let since_start = std::mem::replace(&mut first, false);
        let result = tokio::task::spawn_blocking(move || st.scheduled_rebuild(since_start)).await;
        match result {
            Ok(Ok(Some(b))) => tracing::info!(
                version = b.version,
                bytes = b.bytes,
                brotli = b.brotli,
                events = b.events,
                seconds = b.seconds,
                load_seconds = b.load_seconds,
                train_seconds = b.train_seconds,
                compress_seconds = b.compress_seconds,
                "rebuilt snapshot"
            ),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "scheduled snapshot rebuild failed"),
            Err(e) => tracing::error!(error = %e, "scheduled snapshot rebuild failed"),
        }
    }
}
