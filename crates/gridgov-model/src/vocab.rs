//! Controlled vocabularies of the domain (DOMAIN.md), each an enum with a stable English token
//! (what is stored and sent over the API) and its Simplified Chinese term.
//!
//! This file is gridgov's glossary: every Chinese domain term the software uses is defined here
//! once, and the web UI and documents take their labels from [`glossary`].

use std::fmt;
use std::str::FromStr;

/// A token that is not one of a vocabulary's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a valid {vocabulary}; expected one of: {expected}")]
pub struct UnknownToken {
    /// The vocabulary's name, such as `dispute category`.
    pub vocabulary: &'static str,
    /// What was given.
    pub value: String,
    /// The accepted tokens, comma separated.
    pub expected: String,
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $label:literal, { $($(#[$vmeta:meta])* $variant:ident = $token:literal, $zh:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            /// Every token, in declaration order.
            pub const TOKENS: &'static [&'static str] = &[$($token,)+];
            /// The vocabulary's name in error messages.
            pub const VOCABULARY: &'static str = $label;

            /// The stable English token stored and sent over the API.
            pub fn token(self) -> &'static str {
                match self { $($name::$variant => $token,)+ }
            }

            /// The Simplified Chinese term.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh,)+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownToken;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($token | $zh => Ok($name::$variant),)+
                    _ => Err(UnknownToken {
                        vocabulary: $label,
                        value: s.to_owned(),
                        expected: Self::TOKENS.join(", "),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.token())
            }
        }
    };
}

vocabulary!(
    /// Kind of township-level division.
    TownshipKind, "township kind", {
        /// 乡
        Township = "township", "乡";
        /// 镇
        Town = "town", "镇";
        /// 街道
        Subdistrict = "subdistrict", "街道";
    }
);

vocabulary!(
    /// Kind of village-level division.
    VillageKind, "village kind", {
        /// 行政村
        Village = "village", "行政村";
        /// 社区
        Community = "community", "社区";
    }
);

vocabulary!(
    /// Status of a grid plan (网格划分方案).
    PlanStatus, "plan status", {
        /// 草案
        Draft = "draft", "草案";
        /// 已批准
        Approved = "approved", "已批准";
        /// 已生效
        Effective = "effective", "已生效";
        /// 已废止 (superseded by a later plan; kept as history)
        Superseded = "superseded", "已废止";
    }
);

vocabulary!(
    /// The state of the computation that draws a plan's grids (网格划分计算).
    PlanJob, "plan job", {
        /// 计算中: a server is drawing the grids.
        Running = "running", "计算中";
        /// 已完成: the grids are stored with the plan.
        Done = "done", "已完成";
        /// 失败: no grids were stored; the plan says why.
        Failed = "failed", "失败";
    }
);

vocabulary!(
    /// The five kinds of sorted household waste (DOMAIN.md, sanitation).
    WasteKind, "waste kind", {
        /// 可堆肥垃圾
        Compost = "compost", "可堆肥垃圾";
        /// 可回收垃圾
        Recyclable = "recyclable", "可回收垃圾";
        /// 建筑垃圾
        Construction = "construction", "建筑垃圾";
        /// 有害垃圾
        Hazardous = "hazardous", "有害垃圾";
        /// 可燃垃圾
        Burnable = "burnable", "可燃垃圾";
    }
);

vocabulary!(
    /// Kind of garbage collection point.
    CollectionPointKind, "collection point kind", {
        /// 户分类垃圾桶组
        BinGroup = "bin_group", "分类垃圾桶组";
        /// 垃圾池
        GarbagePool = "garbage_pool", "垃圾池";
    }
);

vocabulary!(
    /// Kind of sanitation vehicle.
    VehicleKind, "vehicle kind", {
        /// 保洁三轮车
        Tricycle = "tricycle", "保洁三轮车";
        /// 垃圾转运车
        Truck = "truck", "垃圾转运车";
    }
);

vocabulary!(
    /// Road class, from trunk roads between township seats down to lanes.
    RoadClass, "road class", {
        /// 国道/省道干线
        Trunk = "trunk", "干线公路";
        /// 县道
        Primary = "primary", "县道";
        /// 乡道
        Secondary = "secondary", "乡道";
        /// 村道
        Village = "village", "村道";
        /// 巷道
        Lane = "lane", "巷道";
        /// 机耕道/小路
        Track = "track", "机耕道";
        /// 步行道
        Path = "path", "步行道";
    }
);

vocabulary!(
    /// Kind of water feature.
    WaterKind, "water kind", {
        /// 河流
        River = "river", "河流";
        /// 溪沟
        Stream = "stream", "溪沟";
        /// 水渠
        Canal = "canal", "水渠";
        /// 湖泊
        Lake = "lake", "湖泊";
        /// 水库
        Reservoir = "reservoir", "水库";
        /// 池塘
        Pond = "pond", "池塘";
    }
);

vocabulary!(
    /// Land use class.
    LandUseKind, "land use kind", {
        /// 耕地
        Farmland = "farmland", "耕地";
        /// 林地
        Forest = "forest", "林地";
        /// 建设用地
        BuiltUp = "built_up", "建设用地";
        /// 草地
        Grassland = "grassland", "草地";
        /// 园地
        Orchard = "orchard", "园地";
    }
);

vocabulary!(
    /// Category of a supervised person (特殊人群).
    SupervisionCategory, "supervision category", {
        /// 社区矫正对象
        CommunityCorrection = "community_correction", "社区矫正";
        /// 刑满释放人员
        ReleasedPrisoner = "released_prisoner", "刑满释放人员";
        /// 戒毒康复人员
        DrugRehabilitation = "drug_rehabilitation", "戒毒康复人员";
        /// 留守儿童关爱
        LeftBehindChild = "left_behind_child", "留守儿童";
    }
);

vocabulary!(
    /// Professional category of a dispute (矛盾纠纷类别), from the seed plans.
    DisputeCategory, "dispute category", {
        /// 征地拆迁
        LandAcquisition = "land_acquisition", "征地拆迁";
        /// 医疗纠纷
        Medical = "medical", "医疗纠纷";
        /// 林权纠纷
        ForestRights = "forest_rights", "林权纠纷";
        /// 交通事故
        TrafficAccident = "traffic_accident", "交通事故";
        /// 劳动争议
        Labour = "labour", "劳动争议";
        /// 消费维权
        Consumer = "consumer", "消费维权";
        /// 环境污染
        Environment = "environment", "环境污染";
        /// 土地承包
        LandContracting = "land_contracting", "土地承包";
        /// 农村不稳定因素
        RuralInstability = "rural_instability", "农村不稳定因素";
        /// 拖欠工资
        WageArrears = "wage_arrears", "拖欠工资";
        /// 涉众金融
        MassFinance = "mass_finance", "涉众金融";
        /// 房地产
        RealEstate = "real_estate", "房地产";
        /// 三乱: illegal occupation, sale or lease of rural land
        IllegalLandUse = "illegal_land_use", "三乱";
        /// 邻里/婚姻家庭等其他纠纷
        Other = "other", "其他";
    }
);

vocabulary!(
    /// Channel through which a dispute is handled (调解渠道).
    DisputeChannel, "dispute channel", {
        /// 人民调解
        People = "people", "人民调解";
        /// 行政调解
        Administrative = "administrative", "行政调解";
        /// 司法调解
        Judicial = "judicial", "司法调解";
        /// 信访 (with 公道评说 public review)
        Petition = "petition", "信访";
    }
);

vocabulary!(
    /// Level at which a dispute is being handled (小事不出村、大事不出镇、矛盾不上交).
    DisputeLevel, "dispute level", {
        /// 村级
        Village = "village", "村级";
        /// 镇级
        Township = "township", "镇级";
        /// 县级
        County = "county", "县级";
    }
);

vocabulary!(
    /// Status of a dispute in the mediation workflow (`gridgov-disputes::workflow`): reported
    /// (at the level that now holds it), accepted, mediating, then resolved or, at the county
    /// when no level could settle it, not resolved.
    DisputeStatus, "dispute status", {
        /// 已上报，待受理 (reported, or escalated and waiting for the next level to accept it)
        Open = "open", "待受理";
        /// 已受理
        Accepted = "accepted", "已受理";
        /// 调解中
        Mediating = "mediating", "调解中";
        /// 已化解 (resolved)
        Settled = "settled", "已化解";
        /// 未化解，已终结 (not resolved at the county: referred to litigation, arbitration …)
        Closed = "closed", "未化解";
    }
);

vocabulary!(
    /// One step of a dispute's case history (调处记录).
    DisputeAction, "dispute action", {
        /// 上报: a grid worker reports the dispute
        Report = "report", "上报";
        /// 受理: the level holding the case accepts it
        Accept = "accept", "受理";
        /// 调解: mediation starts
        Mediate = "mediate", "调解";
        /// 化解: mediation settled the dispute
        Resolve = "resolve", "化解";
        /// 调解不成: mediation failed (escalates, or ends the case at the county)
        Fail = "fail", "调解不成";
        /// 上报上级: handed to the next level by hand
        Escalate = "escalate", "上报上级";
        /// 超期升级: the level's deadline passed
        EscalateOverdue = "escalate_overdue", "超期升级";
        /// 包案: a responsible leader and a plan for a backlog case (包案领导、一案一策)
        AssignLeader = "assign_leader", "包案";
    }
);

impl DisputeStatus {
    /// Whether a case in this status is finished and must carry its closing date.
    pub fn is_finished(self) -> bool {
        matches!(self, DisputeStatus::Settled | DisputeStatus::Closed)
    }
}

vocabulary!(
    /// The coordinate system a point arrives in. CGCS2000 (国家2000坐标系) differs from WGS84 by
    /// centimetres and is taken as WGS84; GCJ-02 and BD-09 are the offset systems of Chinese
    /// web maps (see [`crate::crs`]).
    Crs, "coordinate system", {
        /// WGS84 (or CGCS2000): what GPS receivers give and gridgov stores.
        Wgs84 = "wgs84", "WGS84坐标";
        /// GCJ-02, the national offset system of Gaode (Amap), Tencent and most Chinese apps.
        Gcj02 = "gcj02", "火星坐标";
        /// BD-09, Baidu Maps' system, a further offset of GCJ-02.
        Bd09 = "bd09", "百度坐标";
    }
);

vocabulary!(
    /// A user's role. Each role is scoped to one node of the administrative tree (see
    /// [`crate::access`]).
    Role, "role", {
        /// 县级管理员: everything in the county, users and permissions included.
        CountyAdmin = "county_admin", "县级管理员";
        /// 乡镇干部: one township's features.
        TownshipOfficer = "township_officer", "乡镇干部";
        /// 村（社区）干部: one village's or community's features.
        VillageOfficer = "village_officer", "村（社区）干部";
        /// 网格员: one grid's features.
        GridWorker = "grid_worker", "网格员";
        /// 指挥中心大屏: read-only, aggregates and non-personal layers.
        CommandScreen = "command_screen", "指挥中心大屏";
        /// 司法所工作人员: supervised persons (community correction, released prisoners) in scope.
        JudicialOfficer = "judicial_officer", "司法所工作人员";
    }
);

/// The glossary: every vocabulary with its tokens and Chinese terms, for the UI and documents.
pub fn glossary() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    macro_rules! entry {
        ($($t:ty),+) => {
            vec![$((<$t>::VOCABULARY, <$t>::ALL.iter().map(|v| (v.token(), v.zh())).collect()),)+]
        };
    }
    entry!(
        TownshipKind,
        VillageKind,
        PlanStatus,
        PlanJob,
        WasteKind,
        CollectionPointKind,
        VehicleKind,
        RoadClass,
        WaterKind,
        LandUseKind,
        SupervisionCategory,
        DisputeCategory,
        DisputeChannel,
        DisputeLevel,
        DisputeStatus,
        DisputeAction,
        Crs,
        Role
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_chinese_terms_parse_back() {
        for c in DisputeCategory::ALL {
            assert_eq!(c.token().parse::<DisputeCategory>(), Ok(*c));
            assert_eq!(c.zh().parse::<DisputeCategory>(), Ok(*c));
        }
        let err = "fight".parse::<DisputeLevel>().unwrap_err();
        assert!(err.to_string().contains("dispute level"));
        assert!(err.to_string().contains("village, township, county"));
    }

    #[test]
    fn glossary_has_no_duplicate_tokens_within_a_vocabulary() {
        for (name, entries) in glossary() {
            let mut tokens: Vec<_> = entries.iter().map(|e| e.0).collect();
            tokens.sort_unstable();
            let n = tokens.len();
            tokens.dedup();
            assert_eq!(n, tokens.len(), "{name}");
        }
    }
}
