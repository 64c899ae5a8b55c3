//! Chinese names built from syllable lists: townships, villages, natural villages, people,
//! water bodies; and phone numbers. All synthetic; any likeness to a real person is chance.

use std::collections::BTreeSet;

use rand::seq::SliceRandom;
use rand::Rng;

/// The county's full name.
pub(crate) const COUNTY_NAME: &str = "威宁彝族回族苗族自治县";
/// The county's short name, used in addresses.
pub(crate) const COUNTY_SHORT: &str = "威宁县";

/// Township names (the county town's township first). Names of the real county's towns are
/// mixed with invented ones; the demo's boundaries are invented either way.
const TOWNSHIPS: &[&str] = &[
    "草海", "金钟", "炉山", "龙场", "黑石", "观风", "牛棚", "雪山", "羊街", "小海", "盐仓", "东风",
    "二塘", "猴场", "秀水", "中水", "哲觉", "石门", "岔河", "玉龙", "新发", "兔街",
];

/// Names of communities in the county town.
const TOWN_COMMUNITIES: &[&str] = &[
    "海边",
    "五里岗",
    "六桥",
    "陕桥",
    "南街",
    "北门",
    "建设",
    "民族",
    "团结",
    "文化",
    "兴隆",
    "龙泉",
];

const VILLAGE_FIRST: &[&str] = &[
    "双", "石", "新", "红", "大", "小", "高", "黄", "青", "白", "马", "龙", "金", "银", "桃", "杨",
    "柳", "松", "岩", "沙", "水", "田", "花", "凤", "团", "平", "长", "中", "上", "下", "东", "西",
    "南", "北", "前", "后", "羊", "牛", "海", "河", "坪", "营", "鸡", "兴", "光", "丰", "和", "安",
    "乐", "永", "勺", "幸", "民", "联", "合", "仁", "义", "华",
];
const VILLAGE_SECOND: &[&str] = &[
    "龙", "河", "山", "坪", "坝", "营", "寨", "沟", "塘", "桥", "林", "丰", "兴", "光", "明", "星",
    "华", "安", "和", "阳", "水", "岩", "湾", "岗", "场", "堡", "街", "铺", "田", "箐", "源", "峰",
    "门", "关", "屯",
];

const HAMLET_PLACE: &[&str] = &[
    "寨", "湾", "沟", "坡", "院", "营", "坪", "垭口", "头", "脚", "坝", "梁子", "冲", "井",
];
const HAMLET_FIRST: &[&str] = &[
    "大", "小", "上", "下", "中", "新", "老", "岩", "水", "石", "松", "竹", "杉", "麻", "黑", "白",
    "红", "后", "前", "干", "阴", "阳",
];

const SURNAMES: &[(&str, u32)] = &[
    ("王", 30),
    ("李", 30),
    ("张", 28),
    ("刘", 18),
    ("陈", 18),
    ("杨", 22),
    ("赵", 10),
    ("黄", 10),
    ("周", 9),
    ("吴", 9),
    ("马", 16),
    ("朱", 8),
    ("胡", 7),
    ("罗", 12),
    ("禄", 6),
    ("安", 7),
    ("龙", 7),
    ("陆", 6),
    ("管", 5),
    ("聂", 5),
    ("保", 4),
    ("丁", 4),
    ("苏", 4),
    ("邓", 5),
    ("卯", 3),
    ("余", 5),
    ("蔡", 4),
    ("肖", 4),
    ("袁", 4),
    ("雷", 3),
    ("孔", 3),
    ("高", 6),
    ("何", 6),
    ("郭", 5),
    ("徐", 5),
    ("孙", 5),
    ("林", 4),
    ("金", 3),
    ("尹", 3),
    ("熊", 3),
];
const GIVEN_MALE: &[&str] = &[
    "伟", "强", "军", "勇", "明", "杰", "涛", "斌", "超", "刚", "平", "辉", "华", "建", "国", "文",
    "林", "云", "峰", "鹏", "龙", "海", "成", "志", "兴", "贵", "发", "富", "荣", "学", "忠", "福",
    "德", "昌", "永", "光", "金", "祥", "进", "才",
];
const GIVEN_FEMALE: &[&str] = &[
    "芳", "丽", "敏", "静", "燕", "娟", "艳", "霞", "玲", "琴", "英", "梅", "兰", "萍", "红", "秀",
    "珍", "凤", "琼", "丹", "婷", "雪", "春", "桂", "慧", "莲", "菊", "花", "芬", "美",
];
const PHONE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "183", "185", "186",
    "187", "188", "189", "191", "195", "198", "199",
];

/// Hands out names that are unique within one namespace (the county's villages, a village's
/// hamlets).
#[derive(Debug, Default)]
pub(crate) struct Namer {
    used: BTreeSet<String>,
}

impl Namer {
    /// A namer that refuses the given names.
    pub(crate) fn excluding<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            used: names.into_iter().map(str::to_owned).collect(),
        }
    }

    fn unique<R: Rng>(&mut self, rng: &mut R, mut make: impl FnMut(&mut R) -> String) -> String {
        for attempt in 0..200 {
            let mut name = make(rng);
            if attempt > 100 {
                name.push_str(["一", "二", "三", "新"][attempt % 4]);
            }
            if self.used.insert(name.clone()) {
                return name;
            }
        }
        let name = format!("第{}", self.used.len() + 1);
        self.used.insert(name.clone());
        name
    }

    /// A rural village's name without suffix, such as `双龙`.
    pub(crate) fn village(&mut self, rng: &mut impl Rng) -> String {
        self.unique(rng, |r| {
            let a = VILLAGE_FIRST[r.gen_range(0..VILLAGE_FIRST.len())];
            let b = VILLAGE_SECOND[r.gen_range(0..VILLAGE_SECOND.len())];
            if a == b {
                format!("{a}家{b}")
            } else {
                format!("{a}{b}")
            }
        })
    }

    /// A county-town community's name without suffix, such as `海边`.
    pub(crate) fn town_community(&mut self, rng: &mut impl Rng) -> String {
        let free: Vec<&str> = TOWN_COMMUNITIES
            .iter()
            .copied()
            .filter(|n| !self.used.contains(*n))
            .collect();
        match free.choose(rng) {
            Some(n) => {
                self.used.insert((*n).to_owned());
                (*n).to_owned()
            }
            None => self.village(rng),
        }
    }

    /// A natural village's name, such as `杨家湾` or `岩脚`.
    pub(crate) fn hamlet(&mut self, rng: &mut impl Rng) -> String {
        self.unique(rng, |r| {
            let place = HAMLET_PLACE[r.gen_range(0..HAMLET_PLACE.len())];
            if r.gen_bool(0.45) {
                let surname = SURNAMES[r.gen_range(0..SURNAMES.len())].0;
                format!("{surname}家{place}")
            } else {
                let first = HAMLET_FIRST[r.gen_range(0..HAMLET_FIRST.len())];
                format!("{first}{place}")
            }
        })
    }
}

/// `n` distinct township names without suffix, the county town's (`草海`) first.
pub(crate) fn townships(rng: &mut impl Rng, n: usize) -> Vec<String> {
    let mut rest: Vec<&str> = TOWNSHIPS[1..].to_vec();
    rest.shuffle(rng);
    std::iter::once(TOWNSHIPS[0])
        .chain(rest)
        .take(n)
        .map(str::to_owned)
        .collect()
}

/// A person's name; `female` chooses the given-name list.
pub(crate) fn person(rng: &mut impl Rng, female: bool) -> String {
    let weights: Vec<f64> = SURNAMES.iter().map(|s| f64::from(s.1)).collect();
    let surname = SURNAMES[crate::random::pick_weighted(rng, &weights)].0;
    let list = if female { GIVEN_FEMALE } else { GIVEN_MALE };
    let first = list[rng.gen_range(0..list.len())];
    if rng.gen_bool(0.3) {
        format!("{surname}{first}")
    } else {
        let second = list[rng.gen_range(0..list.len())];
        format!("{surname}{first}{second}")
    }
}

/// An 11-digit mobile number (`1[3-9]` and nine more digits).
pub(crate) fn phone(rng: &mut impl Rng) -> String {
    let prefix = PHONE_PREFIXES[rng.gen_range(0..PHONE_PREFIXES.len())];
    format!("{prefix}{:08}", rng.gen_range(0..100_000_000u32))
}

/// A stream's or pond's proper name stem, such as `白水`.
pub(crate) fn water_stem(rng: &mut impl Rng) -> String {
    const A: &[&str] = &["白", "黑", "清", "龙", "响", "落", "小", "大", "冷", "洗"];
    const B: &[&str] = &["水", "潭", "泉", "滩", "马", "石", "岩", "沙", "花", "鱼"];
    format!(
        "{}{}",
        A[rng.gen_range(0..A.len())],
        B[rng.gen_range(0..B.len())]
    )
}

/// A car plate of Bijie prefecture (`贵F`), with a letter chosen by the caller.
pub(crate) fn plate(rng: &mut impl Rng, letter: char) -> String {
    format!("贵F{letter}{:04}", rng.gen_range(0..10_000u32))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::stream;

    #[test]
    fn names_are_unique_and_phones_are_mobile_numbers() {
        let mut rng = stream(1, 0);
        let mut namer = Namer::default();
        let names: BTreeSet<String> = (0..200).map(|_| namer.village(&mut rng)).collect();
        assert_eq!(names.len(), 200);
        for _ in 0..100 {
            let p = phone(&mut rng);
            assert_eq!(p.len(), 11);
            assert!(p.starts_with('1') && (b'3'..=b'9').contains(&p.as_bytes()[1]));
        }
        assert_eq!(townships(&mut rng, 8)[0], "草海");
    }
}
