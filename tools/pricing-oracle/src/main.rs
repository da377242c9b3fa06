//! A test oracle for `shared/pricing`: random tariffs and sessions are
//! priced by our pricer and, as an OCPI 2.2.1 tariff and CDR whose
//! charging periods are our periods, by ocpi-tariffs (tandemdrive's
//! reference CDR pricer); the totals must agree to the cent.
//!
//! Each case is priced by the oracle twice: with exactly our periods, and
//! with our periods cut further wherever brute force finds a restriction
//! might change its outcome (which, if our cuts are right, changes
//! nothing). The oracle judges a period by its start, ours by its middle,
//! so the second run also checks that we cut everywhere we should.
//!
//! The generator keeps clear of the few places where contract §14 fixes a
//! choice OCPI leaves open and the oracle chose otherwise (see
//! `Generator::avoid_open_choices`; `--all` lets them in). Any
//! disagreement left is ours to explain: the exit status is 1.
//!
//!     cargo run --release --manifest-path tools/pricing-oracle/Cargo.toml -- --cases 2000 --seed 1
//!
//! Flags: `--cases N` (2000), `--seed S` (1), `--tz ZONE` (Europe/Amsterdam),
//! `--show K` disagreements in full (3), `--all`.

mod generate;
mod ocpi;

use pricing::{Decimal, Tz};
use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Args {
    cases: usize,
    seed: u64,
    tz: Tz,
    show: usize,
    /// Also generate the cases where the contract and the oracle
    /// deliberately differ (see `Generator::avoid_open_choices`).
    all: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        cases: 2000,
        seed: 1,
        tz: Tz::Europe__Amsterdam,
        show: 3,
        all: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--all" {
            a.all = true;
            continue;
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--cases" => a.cases = value.parse().map_err(|e| bad(&e))?,
            "--seed" => a.seed = value.parse().map_err(|e| bad(&e))?,
            "--tz" => a.tz = value.parse().map_err(|e| bad(&e))?,
            "--show" => a.show = value.parse().map_err(|e| bad(&e))?,
            _ => {
                return Err(format!(
                    "unknown flag {flag} (--cases N --seed S --tz ZONE --show K --all)"
                ));
            }
        }
    }
    Ok(a)
}

/// Half-up to cents, as contract §14 rounds.
fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// A disagreeing case in full: enough to replay it by hand.
fn show(
    tariff: &str,
    case: &generate::Case,
    periods: &[pricing::Period],
    ours: &pricing::Price,
    oracle: [&Result<ocpi::Oracle, String>; 2],
    tz: Tz,
) {
    let s = &case.session;
    println!("tariff: {tariff}");
    println!("session: {} .. {} ({tz})", s.start, s.end);
    println!("  energy (Wh so far): {:?}", s.energy);
    println!("  activity: {:?}", s.activity);
    println!("periods:");
    for p in periods {
        let local = p.start.with_timezone(&tz).format("%a %H:%M:%S%z");
        let wh = p.energy_wh.round_dp(6);
        println!(
            "  {} ({local}) .. {}  {:?}  {wh} Wh",
            p.start, p.end, p.activity
        );
    }
    println!(
        "ours:   excl {} incl {}  (energy {} time {} parking {} flat {})",
        ours.excl_vat, ours.incl_vat, ours.energy, ours.time, ours.parking_time, ours.flat
    );
    for (name, o) in ["oracle", "finer"].into_iter().zip(oracle) {
        match o {
            Ok(o) => println!(
                "{name}: excl {} incl {} [{} {}]  (energy {} time {} parking {} flat {}; its own sums {:?})",
                cents(o.excl_vat),
                cents(o.incl_vat),
                o.excl_vat,
                o.incl_vat,
                o.energy,
                o.time,
                o.parking_time,
                o.flat,
                o.own
            ),
            Err(e) => println!("{name}: error {e}"),
        }
    }
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut generator = generate::Generator::new(args.seed, args.tz, !args.all);
    let mut timed = Duration::ZERO;
    let (mut agree, mut disagree, mut refined_disagree, mut shown) = (0, 0, 0, 0);
    let mut periods_total = 0usize;
    for n in 0..args.cases {
        let case = generator.case();
        let clock = Instant::now();
        let ours = std::hint::black_box(pricing::price(&case.tariff, args.tz, &case.session));
        timed += clock.elapsed();

        let periods = pricing::periods(&case.tariff, args.tz, &case.session);
        periods_total += periods.len();
        let slices = ocpi::slices(&periods);
        let tariff = ocpi::tariff_json(&case.tariff);
        let vat = case.tariff.vat_percent;
        let cuts = ocpi::probe_cuts(&case.tariff, args.tz, &case.session);
        let refined = ocpi::refine(&slices, &cuts);
        let exact = ocpi::price(
            &tariff,
            &ocpi::cdr_json(&case.session, &slices),
            args.tz,
            vat,
        );
        let probed = ocpi::price(
            &tariff,
            &ocpi::cdr_json(&case.session, &refined),
            args.tz,
            vat,
        );

        let same = |o: &Result<ocpi::Oracle, String>| {
            o.as_ref().is_ok_and(|o| {
                cents(o.excl_vat) == ours.excl_vat && cents(o.incl_vat) == ours.incl_vat
            })
        };
        let (ok_exact, ok_probed) = (same(&exact), same(&probed));
        if ok_exact && ok_probed {
            agree += 1;
            continue;
        }
        disagree += 1;
        if ok_exact {
            refined_disagree += 1;
        }
        if shown < args.show {
            shown += 1;
            println!(
                "--- case {n} disagrees (with our periods: {ok_exact}, cut finer: {ok_probed})"
            );
            show(&tariff, &case, &periods, &ours, [&exact, &probed], args.tz);
        }
    }
    let cases = args.cases.max(1);
    println!(
        "cases {}  agree {} ({:.2}%)  disagree {} (of which only when cut finer: {})",
        args.cases,
        agree,
        100.0 * agree as f64 / cases as f64,
        disagree,
        refined_disagree
    );
    println!(
        "our pricer: mean {:.1} µs per session ({:.1} periods on average; seed {}, {})",
        timed.as_secs_f64() * 1e6 / cases as f64,
        periods_total as f64 / cases as f64,
        args.seed,
        args.tz
    );
    if disagree == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
