//! Where a fast refund's cardholder opened their account: the province, the city and the bank's
//! branch, chosen from lists (manual §3.6.2), as the paying bank checks them: a city belongs to its
//! province, a branch to its bank and its city.
//!
//! The provinces and cities carry their administrative division codes (GB/T 2260); the list of
//! cities is the provincial capitals and the largest other cities, where merchants' customers bank.
//! Each bank that pays fast refunds has, in each city, its branch's main office and two sub-branches:
//! the console's own reference list, which the bank simulator checks against.

use super::Bank;

/// A province-level division: its two-digit code and name, and its cities (four-digit codes).
pub struct Province {
    pub code: &'static str,
    pub name: &'static str,
    pub cities: &'static [(&'static str, &'static str)],
}

pub const PROVINCES: &[Province] = &[
    p("11", "北京市", &[("1101", "北京市")]),
    p("12", "天津市", &[("1201", "天津市")]),
    p(
        "13",
        "河北省",
        &[("1301", "石家庄市"), ("1302", "唐山市"), ("1306", "保定市")],
    ),
    p("14", "山西省", &[("1401", "太原市"), ("1402", "大同市")]),
    p(
        "15",
        "内蒙古自治区",
        &[("1501", "呼和浩特市"), ("1502", "包头市")],
    ),
    p("21", "辽宁省", &[("2101", "沈阳市"), ("2102", "大连市")]),
    p("22", "吉林省", &[("2201", "长春市"), ("2202", "吉林市")]),
    p(
        "23",
        "黑龙江省",
        &[("2301", "哈尔滨市"), ("2302", "齐齐哈尔市")],
    ),
    p("31", "上海市", &[("3101", "上海市")]),
    p(
        "32",
        "江苏省",
        &[("3201", "南京市"), ("3202", "无锡市"), ("3205", "苏州市")],
    ),
    p(
        "33",
        "浙江省",
        &[("3301", "杭州市"), ("3302", "宁波市"), ("3303", "温州市")],
    ),
    p("34", "安徽省", &[("3401", "合肥市"), ("3402", "芜湖市")]),
    p("35", "福建省", &[("3501", "福州市"), ("3502", "厦门市")]),
    p("36", "江西省", &[("3601", "南昌市"), ("3602", "景德镇市")]),
    p("37", "山东省", &[("3701", "济南市"), ("3702", "青岛市")]),
    p("41", "河南省", &[("4101", "郑州市"), ("4103", "洛阳市")]),
    p("42", "湖北省", &[("4201", "武汉市"), ("4205", "宜昌市")]),
    p("43", "湖南省", &[("4301", "长沙市"), ("4302", "株洲市")]),
    p(
        "44",
        "广东省",
        &[("4401", "广州市"), ("4403", "深圳市"), ("4406", "佛山市")],
    ),
    p(
        "45",
        "广西壮族自治区",
        &[("4501", "南宁市"), ("4502", "柳州市")],
    ),
    p("46", "海南省", &[("4601", "海口市"), ("4602", "三亚市")]),
    p("50", "重庆市", &[("5001", "重庆市")]),
    p("51", "四川省", &[("5101", "成都市"), ("5107", "绵阳市")]),
    p("52", "贵州省", &[("5201", "贵阳市"), ("5203", "遵义市")]),
    p("53", "云南省", &[("5301", "昆明市"), ("5303", "曲靖市")]),
    p("54", "西藏自治区", &[("5401", "拉萨市")]),
    p("61", "陕西省", &[("6101", "西安市"), ("6103", "宝鸡市")]),
    p("62", "甘肃省", &[("6201", "兰州市")]),
    p("63", "青海省", &[("6301", "西宁市")]),
    p("64", "宁夏回族自治区", &[("6401", "银川市")]),
    p("65", "新疆维吾尔自治区", &[("6501", "乌鲁木齐市")]),
];

const fn p(
    code: &'static str,
    name: &'static str,
    cities: &'static [(&'static str, &'static str)],
) -> Province {
    Province { code, name, cities }
}

/// The sub-branches every bank has in every city of the list, besides its branch's main office.
const SUB_BRANCHES: [&str; 2] = ["人民路支行", "中山路支行"];

/// A bank's branch in a city.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// `<bank code>-<city code>-<nn>`: `CMB-3101-01`.
    pub code: String,
    pub bank: Bank,
    pub city: &'static str,
    /// The branch's own name, without the bank's: `上海分行营业部`.
    pub name: String,
}

/// Why a place is refused.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error,
)]
pub enum PlaceProblem {
    #[error("no such province")]
    UnknownProvince,
    #[error("the city is not of the province")]
    CityNotInProvince,
    #[error("no such branch")]
    UnknownBranch,
    #[error("the branch is not of that bank and city")]
    BranchElsewhere,
}

pub fn province(code: &str) -> Option<&'static Province> {
    PROVINCES.iter().find(|p| p.code == code)
}

/// The name of city `code`, if it is in the list.
pub fn city_name(code: &str) -> Option<&'static str> {
    PROVINCES
        .iter()
        .flat_map(|p| p.cities)
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// The city's name without its `市`, as branch names use it.
fn short(city: &str) -> &str {
    city.strip_suffix('市').unwrap_or(city)
}

/// The branches of `bank` in city `city` (none for a bank that does not pay fast refunds, or a city
/// not in the list).
pub fn branches(bank: Bank, city: &str) -> Vec<Branch> {
    let listed = PROVINCES
        .iter()
        .flat_map(|p| p.cities)
        .find(|(code, _)| *code == city);
    let Some(&(city, city_name)) = listed.filter(|_| bank.supports_fast_refund()) else {
        return Vec::new();
    };
    let short = short(city_name);
    std::iter::once(format!("{short}分行营业部"))
        .chain(SUB_BRANCHES.iter().map(|s| format!("{short}{s}")))
        .enumerate()
        .map(|(i, name)| Branch {
            code: format!("{}-{city}-{:02}", bank.code(), i + 1),
            bank,
            city,
            name,
        })
        .collect()
}

/// Checks that city `city` is of province `province` and branch `branch` of `bank` in that city:
/// the branch, when all holds.
pub fn check_place(
    bank: Bank,
    province_code: &str,
    city: &str,
    branch: &str,
) -> Result<Branch, PlaceProblem> {
    let province = province(province_code).ok_or(PlaceProblem::UnknownProvince)?;
    if !province.cities.iter().any(|(c, _)| *c == city) {
        return Err(PlaceProblem::CityNotInProvince);
    }
    // A branch code names its bank and city: one of another bank or city is refused as such.
    let mut parts = branch.split('-');
    let known = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(b), Some(c), Some(n), None) => Bank::from_code(b)
            .map(|b| branches(b, c))
            .unwrap_or_default()
            .into_iter()
            .find(|x| x.code == branch && n.len() == 2),
        _ => None,
    };
    let found = known.ok_or(PlaceProblem::UnknownBranch)?;
    if found.bank != bank || found.city != city {
        return Err(PlaceProblem::BranchElsewhere);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_province_and_city_code_is_well_formed_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for p in PROVINCES {
            assert_eq!(p.code.len(), 2);
            assert!(seen.insert(p.code), "{}", p.code);
            assert!(!p.cities.is_empty(), "{}", p.name);
            for (code, name) in p.cities {
                assert!(code.starts_with(p.code) && code.len() == 4, "{code}");
                assert!(seen.insert(code), "{code}");
                assert!(!name.is_empty());
            }
        }
        assert_eq!(PROVINCES.len(), 31);
    }

    #[test]
    fn a_bank_has_three_branches_in_each_city() {
        let shanghai = branches(Bank::Cmb, "3101");
        let names: Vec<&str> = shanghai.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            ["上海分行营业部", "上海人民路支行", "上海中山路支行"]
        );
        assert_eq!(shanghai[0].code, "CMB-3101-01");
        assert!(
            branches(Bank::Boc, "3101").is_empty(),
            "not a fast-refund bank"
        );
        assert!(branches(Bank::Cmb, "9999").is_empty());
    }

    #[test]
    fn a_branch_belongs_to_its_bank_and_city() {
        assert!(check_place(Bank::Icbc, "44", "4403", "ICBC-4403-02").is_ok());
        assert_eq!(
            check_place(Bank::Icbc, "44", "3101", "ICBC-3101-02"),
            Err(PlaceProblem::CityNotInProvince)
        );
        assert_eq!(
            check_place(Bank::Icbc, "99", "4403", "ICBC-4403-02"),
            Err(PlaceProblem::UnknownProvince)
        );
        assert_eq!(
            check_place(Bank::Icbc, "44", "4403", "CMB-4403-02"),
            Err(PlaceProblem::BranchElsewhere)
        );
        assert_eq!(
            check_place(Bank::Icbc, "44", "4403", "ICBC-4401-02"),
            Err(PlaceProblem::BranchElsewhere)
        );
        for bad in [
            "ICBC-4403-09",
            "ICBC-4403",
            "ICBC-4403-02-1",
            "",
            "BOC-4403-01",
        ] {
            assert_eq!(
                check_place(Bank::Icbc, "44", "4403", bad),
                Err(PlaceProblem::UnknownBranch),
                "{bad}"
            );
        }
    }
}
