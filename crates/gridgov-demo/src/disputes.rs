//! Disputes (矛盾纠纷) over 24 months: a background roughly proportional to households, and a
//! few planted clusters that are real in space and time, for hotspot analysis to find.

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use geo::{Coord, Geometry, Point};
use gridgov_disputes::case::Case as DisputeCase;
use gridgov_disputes::deadline::Deadlines;
use gridgov_disputes::ledger::is_backlog;
use gridgov_disputes::workflow::{self, Command, Report};
use gridgov_model::vocab::{DisputeCategory, DisputeChannel, DisputeLevel, LandUseKind};
use gridgov_model::{Feature, FeatureId, Layer};
use rand::Rng;

use crate::calendar::{AS_OF, DISPUTES_FROM};
use crate::frame::{dist, to_lonlat};
use crate::names;
use crate::output::Out;
use crate::random::pick_weighted;
use crate::roads::Network;
use crate::shapes::Shapes;
use crate::world::World;
use crate::PlantedCluster;

/// The first day of month `m` of the window (0 = November 2024).
fn month(m: u32) -> NaiveDate {
    DISPUTES_FROM
        .checked_add_months(Months::new(m))
        .unwrap_or(DISPUTES_FROM)
}

/// Background shares of the categories (rural villages; communities trade land for housing).
fn shares(community: bool) -> Vec<(DisputeCategory, f64)> {
    use DisputeCategory as C;
    vec![
        (C::Other, 28.0),
        (C::LandContracting, if community { 4.0 } else { 16.0 }),
        (C::TrafficAccident, 8.0),
        (C::Labour, 6.0),
        (C::WageArrears, 5.0),
        (C::ForestRights, if community { 0.5 } else { 5.0 }),
        (C::IllegalLandUse, if community { 2.0 } else { 5.0 }),
        (C::Consumer, if community { 7.0 } else { 3.0 }),
        (C::Environment, 4.0),
        (C::Medical, 3.0),
        (C::LandAcquisition, 3.0),
        (C::RuralInstability, if community { 1.0 } else { 4.0 }),
        (C::MassFinance, 1.5),
        (C::RealEstate, if community { 8.0 } else { 0.5 }),
    ]
}

/// What a dispute of the category is typically about.
fn about(category: DisputeCategory, rng: &mut impl Rng) -> &'static str {
    use DisputeCategory as C;
    let pick = |rng: &mut dyn rand::RngCore, options: &[&'static str]| {
        options[rng.gen_range(0..options.len())]
    };
    match category {
        C::LandAcquisition => pick(rng, &["征地补偿款分配纠纷", "房屋拆迁安置纠纷"]),
        C::Medical => pick(rng, &["卫生院诊疗费用纠纷", "医疗损害赔偿纠纷"]),
        C::ForestRights => pick(rng, &["林地边界权属纠纷", "林木采伐纠纷"]),
        C::TrafficAccident => pick(rng, &["交通事故赔偿纠纷", "农用车刮擦纠纷"]),
        C::Labour => pick(rng, &["务工劳动合同纠纷", "工伤赔偿纠纷"]),
        C::Consumer => pick(rng, &["农资质量纠纷", "商品退换纠纷"]),
        C::Environment => pick(rng, &["养殖场污水排放纠纷", "焚烧秸秆烟尘纠纷"]),
        C::LandContracting => pick(rng, &["承包地边界纠纷", "土地流转租金纠纷"]),
        C::RuralInstability => pick(rng, &["村务公开问题反映", "低保评定问题反映"]),
        C::WageArrears => pick(rng, &["务工工资拖欠", "工程款拖欠"]),
        C::MassFinance => pick(rng, &["民间借贷纠纷", "互助会集资纠纷"]),
        C::RealEstate => pick(rng, &["商品房延期交房纠纷", "物业服务纠纷"]),
        C::IllegalLandUse => pick(rng, &["违规占用耕地建房", "私自出租集体土地"]),
        C::Other => pick(
            rng,
            &["邻里宅基地纠纷", "婚姻家庭纠纷", "赡养纠纷", "相邻通行纠纷"],
        ),
    }
}

/// Who acts for a level in the demo's case histories.
fn office(level: DisputeLevel) -> &'static str {
    match level {
        DisputeLevel::Village => "村调委会",
        DisputeLevel::Township => "镇矛调中心",
        DisputeLevel::County => "县矛调中心",
    }
}

/// The end of the demo's last day: no step happens after it.
fn last_instant() -> DateTime<Utc> {
    (AS_OF + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        - Duration::seconds(1)
}

/// An office hour (UTC, 09:00–17:00 in China) on `day`.
fn office_hour(day: NaiveDate, rng: &mut impl Rng) -> DateTime<Utc> {
    day.and_hms_opt(rng.gen_range(1..9), rng.gen_range(0..60), 0)
        .unwrap_or_default()
        .and_utc()
}

/// Plays a case through the workflow up to [`AS_OF`], with the server's deadline sweep before
/// every step (so the history is what gridgov would have recorded): most cases settle in the
/// village within two weeks; `escalated` (a planted cluster) raises the odds of township and
/// county handling.
fn play(case: &mut DisputeCase, escalated: bool, rng: &mut impl Rng) {
    let deadlines = Deadlines::default();
    let level_shares = if escalated {
        [0.4, 0.4, 0.2]
    } else {
        [0.8, 0.17, 0.03]
    };
    let mut target = match pick_weighted(rng, &level_shares) {
        0 => DisputeLevel::Village,
        1 => DisputeLevel::Township,
        _ => DisputeLevel::County,
    };
    let end = last_instant();
    // Steps at `t` unless the demo's calendar ends first; the sweep runs before each one.
    // Returns false when the case's story stops (calendar end, or the sweep moved it).
    let step = |case: &mut DisputeCase, cmd: Command, note: Option<&str>, t: DateTime<Utc>| {
        let mut swept = false;
        while let Some(d) = case.deadline {
            let sweep = (d + Duration::days(1))
                .and_hms_opt(0, 10, 0)
                .unwrap_or_default()
                .and_utc();
            if sweep > t.min(end) || !workflow::escalate_overdue(case, sweep, &deadlines) {
                break;
            }
            swept = true;
        }
        if swept || t > end {
            return false;
        }
        let who = office(case.level);
        workflow::apply(case, cmd, note, who, t, &deadlines).is_ok()
    };
    let mut t = case.steps.last().map_or(end, |s| s.at);
    loop {
        let level = case.level;
        target = target.max(level);
        let days = i64::from(deadlines.days(level, case.category));
        t = office_hour((t + Duration::days(rng.gen_range(0..=1))).date_naive(), rng).max(t);
        if !step(case, Command::Accept, None, t) {
            if case.is_open() && case.level > level && t <= end {
                continue;
            }
            return;
        }
        t = office_hour((t + Duration::days(rng.gen_range(0..=2))).date_naive(), rng).max(t);
        if !step(case, Command::Mediate, Some("组织双方调解"), t) {
            if case.is_open() && case.level > level && t <= end {
                continue;
            }
            return;
        }
        // Mediation takes a while; now and then longer than the level's deadline.
        let took = if rng.gen_bool(0.1) {
            rng.gen_range(days..days * 2)
        } else {
            rng.gen_range(1..(days - 2).max(2))
        };
        t = office_hour((t + Duration::days(took)).date_naive(), rng).max(t);
        let last_level = level == DisputeLevel::County;
        let (cmd, note) = if level < target {
            (Command::Fail, "双方分歧较大，调解不成，报上级调处")
        } else if last_level && rng.gen_bool(0.15) {
            (Command::Fail, "调解不成，引导当事人通过诉讼解决")
        } else {
            (Command::Resolve, "达成调解协议")
        };
        let before = case.level;
        if !step(case, cmd, Some(note), t) {
            if case.is_open() && case.level > before && t <= end {
                continue;
            }
            return;
        }
        if !case.is_open() {
            return;
        }
    }
}

/// A leader and a plan for a backlog case still open at the end of the demo (most have one).
fn backlog_leader(case: &mut DisputeCase, rng: &mut impl Rng) {
    let now = last_instant();
    if !is_backlog(case, now.date_naive()) || rng.gen_bool(0.2) {
        return;
    }
    let leader = match case.level {
        DisputeLevel::County => "县委政法委副书记",
        _ => "镇党委副书记",
    };
    let at = office_hour(AS_OF - Duration::days(rng.gen_range(1..20)), rng)
        .max(case.steps.last().map_or(now, |s| s.at));
    let cmd = Command::AssignLeader {
        leader: format!("{leader}{}", names::person(rng, false)),
        plan: "包案领导每周约谈当事人，相关部门联合会商，限期化解".to_owned(),
    };
    let _ = workflow::apply(
        case,
        cmd,
        None,
        office(case.level),
        at,
        &Deadlines::default(),
    );
}

/// One case: where, what, when.
struct Case<'a> {
    atom: usize,
    pos: Coord<f64>,
    category: DisputeCategory,
    opened: NaiveDate,
    /// Part of a planted cluster (these escalate more often).
    escalated: bool,
    what: &'a str,
}

/// The parties: two neighbours, or for wage and finance cases one employer or organiser and a
/// group.
fn parties(category: DisputeCategory, rng: &mut impl Rng) -> Vec<String> {
    let female = rng.gen_bool(0.3);
    let a = names::person(rng, female);
    match category {
        DisputeCategory::WageArrears | DisputeCategory::MassFinance => {
            vec![
                a,
                format!("{}等{}人", names::person(rng, false), rng.gen_range(5..30)),
            ]
        }
        _ => {
            let female = rng.gen_bool(0.4);
            vec![a, names::person(rng, female)]
        }
    }
}

/// A dispute played through the workflow, pushed with its history.
fn dispute(world: &World, case: &Case, out: &mut Out, rng: &mut impl Rng) {
    let village = &world.villages[world.village_of[case.atom] as usize];
    let group = world.groups[world.group_of[case.atom] as usize]
        .code
        .number();
    let grid = world
        .grids
        .get(world.grid_of[case.atom] as usize)
        .map(|g| g.code.clone());
    let report = Report {
        village: village.code,
        grid: grid.clone(),
        location: Point(to_lonlat(case.pos)),
        category: case.category,
        channel: DisputeChannel::People,
        parties: parties(case.category, rng),
        description: Some(format!("{}{group}组：{}", village.name, case.what)),
        note: None,
    };
    let reporter = grid.map_or_else(|| "网格员".to_owned(), |g| format!("网格员{g}"));
    let mut c = workflow::report(
        report,
        &reporter,
        office_hour(case.opened, rng),
        &Deadlines::default(),
    );
    play(&mut c, case.escalated, rng);
    backlog_leader(&mut c, rng);
    c.channel = channel(c.level, rng);
    let mut f = Feature::new(village.code, c.location.map(Geometry::Point));
    c.write_to(&mut f);
    let id = out.push(Layer::Disputes, f);
    for s in &c.steps {
        out.push(
            Layer::DisputeSteps,
            s.to_feature(FeatureId(id), village.code),
        );
    }
}

/// The channel a case ends up in, by the level that handles it.
fn channel(level: DisputeLevel, rng: &mut impl Rng) -> DisputeChannel {
    use DisputeChannel as Ch;
    let shares = match level {
        DisputeLevel::Village => [0.82, 0.08, 0.04, 0.06],
        DisputeLevel::Township => [0.35, 0.35, 0.1, 0.2],
        DisputeLevel::County => [0.05, 0.3, 0.3, 0.35],
    };
    [Ch::People, Ch::Administrative, Ch::Judicial, Ch::Petition][pick_weighted(rng, &shares)]
}

fn random_day(from: NaiveDate, to: NaiveDate, rng: &mut impl Rng) -> NaiveDate {
    from + Duration::days(rng.gen_range(0..=(to - from).num_days().max(0)))
}

/// What a planted cluster is: its category, size, duration and story.
struct Plan {
    category: DisputeCategory,
    radius: f64,
    months: u32,
    count: (usize, usize),
    story: &'static str,
}

/// Adds the disputes and returns the planted clusters.
pub(crate) fn build(
    world: &World,
    shapes: &Shapes,
    network: &Network,
    out: &mut Out,
    rng: &mut impl Rng,
) -> Vec<PlantedCluster> {
    let mesh = &world.mesh;
    // Background.
    let count = (world.households.len() as f64 * rng.gen_range(0.072..0.082)).round() as usize;
    let rural = shares(false);
    let urban = shares(true);
    for _ in 0..count {
        let h = &world.households[rng.gen_range(0..world.households.len())];
        let table = if world.villages[h.village].community {
            &urban
        } else {
            &rural
        };
        let weights: Vec<f64> = table.iter().map(|c| c.1).collect();
        let category = table[pick_weighted(rng, &weights)].0;
        let c = mesh.centre(h.atom);
        let t = rng.gen_range(0.05..0.35);
        let pos = shapes.settle(
            h.atom,
            Coord {
                x: h.pos.x + t * (c.x - h.pos.x),
                y: h.pos.y + t * (c.y - h.pos.y),
            },
        );
        let opened = random_day(DISPUTES_FROM, AS_OF, rng);
        let what = about(category, rng);
        let case = Case {
            atom: h.atom,
            pos,
            category,
            opened,
            escalated: false,
            what,
        };
        dispute(world, &case, out, rng);
    }
    // Planted clusters, each in its own village.
    let mut used: Vec<usize> = Vec::new();
    let mut clusters = Vec::new();
    let mut plans: Vec<(Plan, Option<usize>)> = vec![
        (
            Plan {
                category: DisputeCategory::LandAcquisition,
                radius: 900.0,
                months: 3,
                count: (45, 65),
                story: "道路改扩建工程征地补偿纠纷",
            },
            arterial_site(network, rng),
        ),
        (
            Plan {
                category: DisputeCategory::WageArrears,
                radius: 500.0,
                months: 2,
                count: (35, 50),
                story: "安置房建设项目拖欠农民工工资",
            },
            town_site(world, rng),
        ),
    ];
    plans.push((
        Plan {
            category: DisputeCategory::ForestRights,
            radius: 1_000.0,
            months: 4,
            count: (30, 45),
            story: "集体林地林权边界纠纷",
        },
        forest_site(world, &plans, rng),
    ));
    let more = [
        Plan {
            category: DisputeCategory::Environment,
            radius: 700.0,
            months: 3,
            count: (30, 45),
            story: "采石场粉尘噪声污染纠纷",
        },
        Plan {
            category: DisputeCategory::IllegalLandUse,
            radius: 800.0,
            months: 3,
            count: (30, 45),
            story: "违规占用耕地建房（三乱）",
        },
        Plan {
            category: DisputeCategory::MassFinance,
            radius: 600.0,
            months: 2,
            count: (25, 35),
            story: "非法集资（涉众金融）",
        },
    ];
    let extra = if rng.gen_bool(0.5) { 3 } else { 2 };
    for plan in more.into_iter().take(extra) {
        let site = rural_site(world, &plans, plan.category, rng);
        plans.push((plan, site));
    }
    for (plan, site) in plans {
        let Some(centre_atom) = site else { continue };
        let v = world.village_of[centre_atom] as usize;
        if used.contains(&v) {
            continue;
        }
        used.push(v);
        let first = if plan.category == DisputeCategory::WageArrears {
            // The months before the Spring Festival, when wages fall due.
            if rng.gen_bool(0.5) {
                1
            } else {
                13
            }
        } else {
            rng.gen_range(0..=24 - plan.months)
        };
        let from = month(first);
        let to = month(first + plan.months) - Duration::days(1);
        let centre = mesh.centre(centre_atom);
        let wanted = rng.gen_range(plan.count.0..=plan.count.1);
        let mut made = 0;
        for _ in 0..wanted {
            let mut placed = None;
            for _ in 0..60 {
                let r = plan.radius * rng.gen::<f64>().sqrt();
                let t = rng.gen_range(0.0..std::f64::consts::TAU);
                let p = Coord {
                    x: centre.x + r * t.cos(),
                    y: centre.y + r * t.sin(),
                };
                if let Some(a) = mesh.locate(p) {
                    if world.dry(a) && world.village_of[a] as usize == v {
                        placed = Some((a, shapes.settle(a, mesh.clamp(a, p, 0.92))));
                        break;
                    }
                }
            }
            let Some((a, pos)) = placed else { continue };
            if dist(pos, centre) > plan.radius {
                continue;
            }
            let opened = random_day(from, to, rng);
            let case = Case {
                atom: a,
                pos,
                category: plan.category,
                opened,
                escalated: true,
                what: plan.story,
            };
            dispute(world, &case, out, rng);
            made += 1;
        }
        clusters.push(PlantedCluster {
            center_lon: to_lonlat(centre).x,
            center_lat: to_lonlat(centre).y,
            radius_m: plan.radius,
            from,
            to,
            category: plan.category.token().to_owned(),
            count: made,
            village_code: world.villages[v].code.to_string(),
        });
    }
    clusters
}

fn taken(world: &World, plans: &[(Plan, Option<usize>)]) -> Vec<u32> {
    plans
        .iter()
        .filter_map(|(_, s)| s.map(|a| world.village_of[a]))
        .collect()
}

/// A hamlet on a trunk or county road in a rural village (a road project).
fn arterial_site(network: &Network, rng: &mut impl Rng) -> Option<usize> {
    let list = &network.arterial_hamlets;
    (!list.is_empty()).then(|| list[rng.gen_range(0..list.len())])
}

/// A building site 300-700 m from the centre of a county-town community.
fn town_site(world: &World, rng: &mut impl Rng) -> Option<usize> {
    let towns: Vec<usize> = (0..world.villages.len())
        .filter(|&v| world.villages[v].town)
        .collect();
    let v = *towns.get(rng.gen_range(0..towns.len().max(1)))?;
    let village = &world.villages[v];
    let c = world.mesh.centre(village.centre);
    let ring: Vec<usize> = village
        .atoms
        .iter()
        .copied()
        .filter(|&a| world.dry(a) && (300.0..700.0).contains(&dist(world.mesh.centre(a), c)))
        .collect();
    (!ring.is_empty()).then(|| ring[rng.gen_range(0..ring.len())])
}

/// The middle of a large forest patch in a rural village not yet used.
fn forest_site(
    world: &World,
    plans: &[(Plan, Option<usize>)],
    rng: &mut impl Rng,
) -> Option<usize> {
    let busy = taken(world, plans);
    let big: Vec<&crate::world::Patch> = world
        .patches
        .iter()
        .filter(|p| {
            p.kind == LandUseKind::Forest
                && p.atoms.len() >= 60
                && !world.villages[p.village].community
                && !busy.contains(&(p.village as u32))
        })
        .collect();
    let patch = big.get(rng.gen_range(0..big.len().max(1)))?;
    let n = patch.atoms.len() as f64;
    let (sx, sy) = patch.atoms.iter().fold((0.0, 0.0), |(x, y), &a| {
        let c = world.mesh.centre(a);
        (x + c.x, y + c.y)
    });
    let centroid = Coord {
        x: sx / n,
        y: sy / n,
    };
    patch.atoms.iter().copied().min_by(|&a, &b| {
        dist(world.mesh.centre(a), centroid).total_cmp(&dist(world.mesh.centre(b), centroid))
    })
}

/// A site in a rural village not yet used: for illegal land use, the centre of a village next
/// to a township seat; for pollution, a quarry 400-900 m from a hamlet; for illegal fund
/// raising, a seat community outside the county town.
fn rural_site(
    world: &World,
    plans: &[(Plan, Option<usize>)],
    category: DisputeCategory,
    rng: &mut impl Rng,
) -> Option<usize> {
    let busy = taken(world, plans);
    let free = |v: usize| !busy.contains(&(v as u32));
    match category {
        DisputeCategory::IllegalLandUse => {
            let t = rng.gen_range(0..world.townships.len());
            let township = &world.townships[t];
            let seat = world.mesh.centre(township.seat);
            township
                .villages
                .iter()
                .copied()
                .filter(|&v| !world.villages[v].community && free(v))
                .min_by(|&a, &b| {
                    let da = dist(world.mesh.centre(world.villages[a].centre), seat);
                    let db = dist(world.mesh.centre(world.villages[b].centre), seat);
                    da.total_cmp(&db)
                })
                .map(|v| world.villages[v].centre)
        }
        DisputeCategory::MassFinance => {
            let seats: Vec<usize> = (0..world.villages.len())
                .filter(|&v| world.villages[v].community && !world.villages[v].town && free(v))
                .collect();
            let v = *seats.get(rng.gen_range(0..seats.len().max(1)))?;
            Some(world.villages[v].centre)
        }
        _ => {
            for _ in 0..200 {
                let v = rng.gen_range(0..world.villages.len());
                let village = &world.villages[v];
                if village.community || !free(v) {
                    continue;
                }
                let hamlet = world.mesh.centre(world.groups[village.groups[0]].hamlet);
                let ring: Vec<usize> = village
                    .atoms
                    .iter()
                    .copied()
                    .filter(|&a| {
                        world.dry(a) && (400.0..900.0).contains(&dist(world.mesh.centre(a), hamlet))
                    })
                    .collect();
                if !ring.is_empty() {
                    return Some(ring[rng.gen_range(0..ring.len())]);
                }
            }
            None
        }
    }
}
