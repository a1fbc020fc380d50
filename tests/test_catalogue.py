"""The catalogue holds the seed's figures: typed out here independently, not read back from the CSV."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from helpers import cli_in_process, run_cli
from shinchoku.catalogue import CatalogueError, load_catalogue
from shinchoku.config import ROOT

CATALOGUE_DIR = ROOT / "catalogue"

# (name fragment, unit, direction, baseline value, decimals, baseline FY, target value, decimals, target FY)
SEED = [
    ("行政手続のオンライン利用率", "%", "increase", 48.2, 1, 2021, 80.0, 1, 2025),
    ("コピー用紙購入量", "百万枚", "decrease", 40, 0, 2020, 12, 0, 2025),
    ("移住ポータルサイト", "万件", "increase", None, None, 2021, 146.1, 1, 2025),
    ("課題解決プロジェクト参加者数", "人", "increase", 121, 0, 2021, 160, 0, 2025),
    ("教員のICT活用指導力", "%", "increase", 65.3, 1, 2020, 85, 0, 2025),
    ("AI・IoT製品や技術等を自社に導入", "件", "increase", 2, 0, 2021, 8, 0, 2025),
    ("スマート農業等技術を導入した経営体数", "経営体", "increase", 525, 0, 2020, 810, 0, 2025),
    ("介護ロボットやICT機器の導入施設数", "施設", "increase", 172, 0, 2020, 391, 0, 2025),
    ("健民アプリのダウンロード数", "件", "increase", 48441, 0, 2020, 98441, 0, None),
    ("防災に関し啓発を行った人数", "人", "increase", 5000, 0, 2021, 8000, 0, 2025),
    ("環境アプリの累計ダウンロード数", "ダウンロード", "increase", 10000, 0, 2021, 100000, 0, 2025),
]


def test_eleven_kpis_with_the_seed_figures(catalogue):
    assert len(catalogue.kpis) == 11
    for fragment, unit, direction, b, b_dec, b_fy, t, t_dec, t_fy in SEED:
        [kpi] = [k for k in catalogue.kpis if fragment in k.name]
        assert (kpi.unit, kpi.direction) == (unit, direction), fragment
        assert (kpi.baseline_value, kpi.baseline_decimals, kpi.baseline_fy) == (b, b_dec, b_fy), fragment
        assert (kpi.target_value, kpi.target_decimals, kpi.target_fy) == (t, t_dec, t_fy), fragment


def test_unknown_figures_carry_a_note(catalogue):
    unknown = [k for k in catalogue.kpis if k.baseline_value is None or k.target_fy is None]
    assert {k.kpi_id for k in unknown} == {"REC-K01", "HLT-K02"}
    assert all(k.note for k in unknown)


def test_structure(catalogue):
    groups = {a.area_group for a in catalogue.areas}
    assert groups == {"行政のDX", "市町村支援・連携", "地域のDX"}
    assert len([a for a in catalogue.areas if a.area_group == "地域のDX"]) == 6
    gov = [k for k in catalogue.kpis if k.area_id == "GOV"]
    assert len(gov) == 2 and all(k.initiative_id is None for k in gov)
    techno = [i for i in catalogue.initiatives if "テクノアカデミー" in i.name]
    assert len(techno) == 1
    assert not [k for k in catalogue.kpis if k.initiative_id == techno[0].initiative_id]
    assert all(k.owner for k in catalogue.kpis) and all(i.owner for i in catalogue.initiatives)
    assert catalogue.owners_illustrative
    assert (catalogue.first_year, catalogue.last_year) == (2020, 2025)


def _broken(tmp_path, file, old, new):
    target = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE_DIR, target)
    path = target / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


# Every problem reads the same way: file, row, column, then what is wrong, in Japanese.
PROBLEM = re.compile(r"^\S+\.csv 行\d+ 列 \S+: .+")


@pytest.mark.parametrize("file, old, new, named", [
    ("kpis.csv", "GOV-K02,GOV,,コピー用紙購入量(本庁(知事部局)),百万枚,decrease",
     "GOV-K02,GOV,,コピー用紙購入量(本庁(知事部局)),百万枚,downwards",
     ["kpis.csv 行3 列 direction: increase か decrease が必要です(入力: 'downwards')"]),
    ("kpis.csv", "121,2021,160,2025", "121,R3,160,2025",
     ["kpis.csv 行5 列 baseline_fy: 年度(西暦の整数、例 2021)が必要です(入力: 'R3')"]),
    ("kpis.csv", "5000,2021,8000,2025", "five thousand,2021,8000,2025",
     ["kpis.csv 行11 列 baseline_value: 数値として読めません(入力: 'five thousand')"]),
    ("kpis.csv", "IND-K02,IND,IND-02", "IND-K02,IND,NOPE-01",
     ["kpis.csv 行8 列 initiative_id: 取組項目 'NOPE-01' は分野 'IND' にありません"]),
    ("kpis.csv", "525,2020,810,2025,", "525,2020,810,,", ["kpis.csv 行8 列 note: target_fy が空欄の理由を書いてください"]),
    ("kpis.csv", "kpi_id,area_id,", "kpi,area_id,", ["kpis.csv 行1 列 kpi_id: 列がありません(1行目の見出しに必要です)"]),
    ("owners.csv", "SAF-K02,生活環境部,illustrative\n", "",
     ["kpis.csv 行12 列 kpi_id: owners.csv に所管部局がありません(入力: 'SAF-K02')"]),
    ("owners.csv", "GOV-K02,総務部", "GOV-K02,", ["owners.csv 行23 列 owner: 必須です"]),
    ("owners.csv", "GOV-K02,総務部", "GOV-K02,../総務部",
     ["owners.csv 行23 列 owner: 部局のフォルダ名に使えません(入力: '../総務部')",
      "owners.csv 行23 列 owner: 所管部局が departments.csv にありません"]),
    ("areas.csv", "sort_order", "order", ["areas.csv 行1 列 sort_order: 列がありません(1行目の見出しに必要です)"]),
    ("departments.csv", "総務部,,,", "総務部,R2,,未来局",
     ["departments.csv 行3 列 valid_from_fy: 年度(西暦の整数、例 2021)が必要です(入力: 'R2')",
      "departments.csv 行3 列 successor: 後継の部局が departments.csv にありません"]),
    ("initiatives.csv", "HLT-02,HLT,", "HLT-01,HLT,",  # every row it leaves without its initiative, too
     ["initiatives.csv 行18 列 initiative_id: 同じIDの行がほかにもあります(入力: 'HLT-01')",
      "initiatives.csv 行19 列 initiative_id: 同じIDの行がほかにもあります(入力: 'HLT-01')",
      "kpis.csv 行10 列 initiative_id: 取組項目 'HLT-02' は分野 'HLT' にありません",
      "owners.csv 行19 列 item_id: kpis.csv・initiatives.csv にない項目です(入力: 'HLT-02')",
      "outcomes.csv 行31 列 initiative_id: initiatives.csv にありません(入力: 'HLT-02')"]),
])
def test_a_bad_catalogue_names_each_entry(tmp_path, file, old, new, named):
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(_broken(tmp_path, file, old, new))
    assert caught.value.problems == named
    assert all(PROBLEM.match(line) for line in caught.value.problems)


def test_catalogue_check_lists_problems_in_three_files_in_one_japanese_format(tmp_path):
    """Issue 24.4: one run lists every problem, each file, row, column and what is wrong, in Japanese."""
    folder = tmp_path / "dx-office"
    catalogue = folder / "catalogue"
    shutil.copytree(CATALOGUE_DIR, catalogue)
    for file, old, new in [
        ("kpis.csv", "百万枚,decrease,", "百万枚,downwards,"),
        ("owners.csv", "SAF-K01,危機管理部,", "SAF-K01,,"),
        ("revisions.csv", "source\n", "source\nR6-01,GOV-K01,target_value,90.0,R6,2024-03-15,理由,資料\n"),
    ]:
        text = (catalogue / file).read_text(encoding="utf-8")
        assert old in text, (file, old)
        (catalogue / file).write_text(text.replace(old, new, 1), encoding="utf-8")

    result = run_cli("catalogue", "check", "--project", str(folder))
    assert result.returncode == 1, result.stdout + result.stderr
    problems = [line for line in result.stdout.splitlines() if ".csv 行" in line]
    assert problems == [
        "kpis.csv 行3 列 direction: increase か decrease が必要です(入力: 'downwards')",
        "owners.csv 行31 列 owner: 必須です",
        "revisions.csv 行2 列 effective_fy: 年度(西暦の整数、例 2021)が必要です(入力: 'R6')",
    ]
    assert all(PROBLEM.match(line) and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", line) for line in problems)
    assert result.stdout.splitlines()[-1].endswith("3 件の問題があります。直すまで shinchoku run は何も取り込みません。")
    assert len(result.stdout.splitlines()) == 4 and "Traceback" not in result.stderr


def test_a_catalogue_found_sound_loads_without_the_checks_and_the_modules_import_no_circle(tmp_path):
    """The marker spares every later command pandas and pandera; the checks import the field vocabulary,
    not the module that loads the catalogue."""
    folder = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE_DIR, folder)
    load_catalogue(folder)  # checked once, and remembered
    code = ("import sys\n"
            "from shinchoku.catalogue import load_catalogue\n"
            f"assert len(load_catalogue(__import__('pathlib').Path({str(folder)!r})).kpis) == 11\n"
            "assert 'pandera' not in sys.modules and 'schemas.catalogue' not in sys.modules\n"
            "del sys.modules['shinchoku.catalogue']\n"
            "import schemas.catalogue\n"
            "assert 'shinchoku.catalogue' not in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# 県及び市町村 (issue 25.1): local_governments.csv and local_government_groups.csv, typed out here independently.
REGION_COUNTS = {"県北": 8, "県中": 12, "県南": 9, "会津": 13, "南会津": 4, "相双": 12, "いわき": 1}
EVACUATED = {"田村市", "南相馬市", "川俣町", "広野町", "楢葉町", "富岡町", "川内村", "大熊町", "双葉町", "浪江町", "葛尾村",
             "飯舘村"}


def test_the_prefecture_and_its_59_municipalities(catalogue):
    from collections import Counter

    governments = catalogue.local_governments
    [prefecture] = [g for g in governments if g.kind == "県"]
    assert (prefecture.code, prefecture.name, prefecture.region) == ("070009", "福島県", None)
    municipalities = catalogue.municipalities_in(2024)
    assert len(governments) == 60 and len(municipalities) == 59
    assert Counter(g.kind for g in municipalities) == {"市": 13, "町": 31, "村": 15}
    assert Counter(g.region for g in municipalities) == REGION_COUNTS
    for g in governments:  # the check digit, computed here by hand's rule, not by shinchoku's
        a, b, c, d, e = map(int, g.code[:5])
        assert int(g.code[5]) == (11 - (6 * a + 5 * b + 4 * c + 3 * d + 2 * e) % 11) % 10, g
        assert g.name.endswith(g.kind) and g.reading and g.valid_from_fy is None and g.valid_to_fy is None
    by_name = {g.name: g for g in governments}
    assert (by_name["福島市"].code, by_name["飯舘村"].code, by_name["郡山市"].reading) == ("072010", "075647", "こおりやまし")
    assert {g.name for g in catalogue.members_of("避難地域12市町村", 2024)} == EVACUATED
    aizu = catalogue.members_of("会津13市町村", 2024)
    assert {g.name for g in aizu} == {g.name for g in municipalities if g.region == "会津"} and len(aizu) == 13


def _broken_project(tmp_path, file, old, new):
    folder = tmp_path / "dx-office"
    _broken(folder, file, old, new)
    return folder


def assert_refused(project, named: list[str], then: str = "直すまで shinchoku run は何も取り込みません。") -> None:
    """`catalogue check` on the project prints exactly these problem lines, each in the one form, and exits 1."""
    result = cli_in_process("catalogue", "check", "--project", str(project))
    assert result.returncode == 1, result.stdout + result.stderr
    problems = [line for line in result.stdout.splitlines() if ".csv 行" in line]
    assert problems == named
    assert all(PROBLEM.match(line) for line in problems)
    assert result.stdout.splitlines()[-1].endswith(f"{len(named)} 件の問題があります。{then}")


@pytest.mark.parametrize("file, old, new, named", [
    ("local_governments.csv", "072010,福島市", "072011,福島市",
     ["local_governments.csv 行3 列 code: 検査数字(6桁目)が合いません。先頭5桁からは '072010' です(入力: '072011')"]),
    ("local_governments.csv", "072028,会津若松市", "072010,会津若松市",  # and 会津若松市's old code is gone
     ["local_governments.csv 行3 列 code: 同じ団体コードの行がほかにもあります(入力: '072010')",
      "local_governments.csv 行4 列 code: 同じ団体コードの行がほかにもあります(入力: '072010')",
      "local_government_groups.csv 行14 列 code: local_governments.csv の市町村の団体コードではありません(入力: '072028')"]),
    ("local_governments.csv", "いわきし,市,いわき,", "いわきし,市,,",
     ["local_governments.csv 行6 列 region: 市町村には地方が1つ必要です(県北・県中・県南・会津・南会津・相双・いわき のいずれか)"]),
    ("local_governments.csv", "みなみそうまし,市,相双,", "みなみそうまし,市,会津・相双,",
     ["local_governments.csv 行13 列 region: 地方は 県北・県中・県南・会津・南会津・相双・いわき のいずれか1つです"
      "(入力: '会津・相双')"]),
    ("local_governments.csv", "かつらおむら,村,相双,,", "かつらおむら,村,相双,,2023",  # 葛尾村 gone after FY2023
     ["local_government_groups.csv 行12 列 code: 葛尾村(075485)は所属の年度(当初〜現在)を通して存在する市町村ではありません"
      "(local_governments.csv の 当初〜2023年度)"]),
    ("local_government_groups.csv", "避難地域12市町村,075647", "避難地域12市町村,070009",  # the prefecture is no member
     ["local_government_groups.csv 行13 列 code: local_governments.csv の市町村の団体コードではありません(入力: '070009')"]),
])
def test_catalogue_check_refuses_a_bad_local_government(tmp_path, file, old, new, named):
    """Issue 25.1: each mistake is one Japanese line naming file, row and column; `catalogue check` exits 1."""
    assert_refused(_broken_project(tmp_path, file, old, new), named)


# Contacts (issue 27): one or more addresses per department and local government, in an email column of their file.
def test_departments_and_local_governments_carry_their_contacts_addresses(catalogue):
    by_name = {d.name: d for d in catalogue.organisation}
    assert by_name["総務部"].emails == ("somu@pref.example.lg.jp", "somu-joho@pref.example.lg.jp")  # two, by ';'
    assert catalogue.contacts_of("総務部") == by_name["総務部"].emails
    assert catalogue.contacts_of("郡山市") == ("dx.072036@example.lg.jp",) == catalogue.local_governments_by_code["072036"].emails
    assert all(d.emails for d in catalogue.organisation) and all(g.emails for g in catalogue.local_governments)
    # the demo's addresses are in reserved example domains: nothing can reach a real office
    every = [a for d in catalogue.organisation for a in d.emails] + [a for g in catalogue.local_governments for a in g.emails]
    assert all(a.endswith((".example.lg.jp", "@example.lg.jp")) for a in every)
    assert catalogue.contacts_of("どこでもない部") == () and catalogue.contacts_of(None) == ()


@pytest.mark.parametrize("file, old, new, named", [
    ("departments.csv", "somu@pref.example.lg.jp;", "総務部 <somu@pref.example.lg.jp>;",
     ["departments.csv 行3 列 email: メールアドレス(半角、例 somu@pref.example.lg.jp。複数は ; で区切ります)として読めません"
      "(入力: '総務部 <somu@pref.example.lg.jp>;somu-joho@pref.example.lg.jp')"]),
    ("departments.csv", "kyoiku@pref.example.lg.jp", "kyoiku＠pref.example.lg.jp",  # a full-width ＠
     ["departments.csv 行5 列 email: メールアドレス(半角、例 somu@pref.example.lg.jp。複数は ; で区切ります)として読めません"
      "(入力: 'kyoiku＠pref.example.lg.jp')"]),
    ("local_governments.csv", "dx.072036@example.lg.jp", "dx.072036@example..lg.jp",
     ["local_governments.csv 行5 列 email: メールアドレス(半角、例 somu@pref.example.lg.jp。複数は ; で区切ります)として読めません"
      "(入力: 'dx.072036@example..lg.jp')"]),
])
def test_catalogue_check_refuses_an_address_that_is_none(tmp_path, file, old, new, named):
    """catalogue check lists it (exit 1); every other command loads the catalogue and goes on, the unit keeping the
    addresses that are addresses and the rest named as no address (tests/test_mail.py: the mail says why)."""
    project = _broken_project(tmp_path, file, old, new)
    assert_refused(project, named, then="取込は続けますが、直すまでその宛先にはメールを送りません。")
    loaded = load_catalogue(project / "catalogue")
    unit = "郡山市" if file == "local_governments.csv" else "教育庁" if "kyoiku" in old else "総務部"
    assert [bad for _, bad in loaded.bad_contacts] == [new.rstrip(";")]
    assert loaded.bad_contacts_of(unit) == (new.rstrip(";"),)
    assert loaded.contacts_of(unit) == (() if unit != "総務部" else ("somu-joho@pref.example.lg.jp",))


def test_an_address_that_is_none_among_other_problems_is_listed_with_them(tmp_path):
    project = _broken_project(tmp_path, "departments.csv", "kyoiku@pref.example.lg.jp", "kyoiku＠pref.example.lg.jp")
    kpis = project / "catalogue" / "kpis.csv"
    kpis.write_text(kpis.read_text(encoding="utf-8").replace(",increase,", ",upwards,", 1), encoding="utf-8")
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(project / "catalogue")  # a problem that is not an address stops every command, as before
    assert not refused.value.contacts_only and not any("email" in p for p in refused.value.problems)
    result = cli_in_process("catalogue", "check", "--project", str(project))
    assert result.returncode == 1 and "列 email:" in result.stdout and "列 direction:" in result.stdout
    assert result.stdout.splitlines()[-1].endswith("直すまで shinchoku run は何も取り込みません。")


def test_a_contact_column_may_be_absent_or_blank(tmp_path):
    folder = _broken_project(tmp_path, "departments.csv", "kyoiku@pref.example.lg.jp", "")
    text = (folder / "catalogue" / "local_governments.csv").read_text(encoding="utf-8")
    (folder / "catalogue" / "local_governments.csv").write_text(
        "\n".join(line.rsplit(",", 1)[0] for line in text.splitlines()) + "\n", encoding="utf-8")  # no email column
    loaded = load_catalogue(folder / "catalogue")
    assert loaded.contacts_of("教育庁") == () and loaded.contacts_of("郡山市") == ()
    assert loaded.contacts_of("総務部") == ("somu@pref.example.lg.jp", "somu-joho@pref.example.lg.jp")


# KPIs computed from local governments' counts (issue 25.2): computed_kpis.csv and kpi_components.csv, declared only.
def test_gov_k01_and_edu_k01_are_declared_ratios_of_sums_from_fy2021(catalogue):
    gov, edu = catalogue.rule_of("GOV-K01", 2021), catalogue.rule_of("EDU-K01", 2021)
    assert (gov.rule, gov.factor, gov.reporters, gov.valid_from_fy, gov.valid_to_fy) == \
        ("ratio_of_sums", 100, "prefecture_and_municipalities", 2021, None)
    assert (edu.rule, edu.factor, edu.reporters, edu.valid_from_fy, edu.valid_to_fy) == \
        ("ratio_of_sums", 100, "municipalities", 2021, None)
    assert catalogue.rule_of("GOV-K01", 2020) is None and catalogue.components_of("EDU-K01", 2020) == ()
    assert {r.kpi_id for r in catalogue.computed_rules} == {"GOV-K01", "EDU-K01"}  # every other KPI is reported
    assert [(c.component_name, c.role, c.unit) for c in catalogue.components_of("GOV-K01", 2024)] == [
        ("オンラインで行われた件数", "numerator", "件"), ("手続の総件数", "denominator", "件")]
    assert [(c.role, c.unit) for c in catalogue.components_of("EDU-K01", 2024)] == [("numerator", "人"),
                                                                                    ("denominator", "人")]
    gov_reporters, edu_reporters = catalogue.reporters_of("GOV-K01", 2024), catalogue.reporters_of("EDU-K01", 2024)
    assert len(gov_reporters) == 60 and gov_reporters[0].name == "福島県"
    assert len(edu_reporters) == 59 and all(g.is_municipality for g in edu_reporters)


@pytest.mark.parametrize("file, old, new, named", [
    ("computed_kpis.csv", "GOV-K01,ratio_of_sums", "GOV-K99,ratio_of_sums",  # and its components are no one's
     ["computed_kpis.csv 行2 列 kpi_id: kpis.csv にない指標です(入力: 'GOV-K99')",
      "kpi_components.csv 行2 列 kpi_id: computed_kpis.csv で構成要素から計算する指標として宣言されていません(入力: 'GOV-K01')",
      "kpi_components.csv 行3 列 kpi_id: computed_kpis.csv で構成要素から計算する指標として宣言されていません(入力: 'GOV-K01')"]),
    ("kpi_components.csv", "EDU-K01,teachers,", "EDU-K09,teachers,",  # EDU-K01 left without a denominator
     ["computed_kpis.csv 行3 列 rule: 2021年度に有効な構成要素(kpi_components.csv)が 分子1つ・分母1つ ではありません"
      "(分子 1・分母 0・加算 0)",
      "kpi_components.csv 行5 列 kpi_id: kpis.csv にない指標です(入力: 'EDU-K09')"]),
    ("kpi_components.csv", "GOV-K01,total,手続の総件数,denominator", "GOV-K01,total,手続の総件数,numerator",
     ["computed_kpis.csv 行2 列 rule: 2021年度に有効な構成要素(kpi_components.csv)が 分子1つ・分母1つ ではありません"
      "(分子 2・分母 0・加算 0)"]),
    ("kpi_components.csv", "教員の総数,denominator,人,2021,", "教員の総数,denominator,人,2021,2023",  # none from FY2024
     ["computed_kpis.csv 行3 列 rule: 2024年度に有効な構成要素(kpi_components.csv)が 分子1つ・分母1つ ではありません"
      "(分子 1・分母 0・加算 0)"]),
    ("kpi_components.csv", "手続の総件数,denominator,件", "手続の総件数,denominator,%",
     ["kpi_components.csv 行3 列 unit: 構成要素は件数で数えます。単位は 件・人・校・団体・施設・事業所・経営体・台・回・世帯・手続 "
      "のいずれかです(%・割合・千件などは使えません)(入力: '%')"]),
    ("kpi_components.csv", "手続の総件数,denominator,件", "手続の総件数,denominator,千件",
     ["kpi_components.csv 行3 列 unit: 構成要素は件数で数えます。単位は 件・人・校・団体・施設・事業所・経営体・台・回・世帯・手続 "
      "のいずれかです(%・割合・千件などは使えません)(入力: '千件')"]),
    ("computed_kpis.csv", "ratio_of_sums,100,municipalities", "ratio_of_sums,0,municipalities",
     ["computed_kpis.csv 行3 列 factor: 倍率は正の数です(% なら 100)(入力: '0')"]),
    ("computed_kpis.csv", "ratio_of_sums,100,municipalities", "ratio_of_sums,-5,municipalities",
     ["computed_kpis.csv 行3 列 factor: 倍率は正の数です(% なら 100)(入力: '-5')"]),
    ("computed_kpis.csv", "100,municipalities", "100,県内の全団体",
     ["computed_kpis.csv 行3 列 reporters: 報告する団体は local_government_groups.csv のグループ名か "
      "prefecture_and_municipalities・municipalities のいずれかです(入力: '県内の全団体')"]),
    ("computed_kpis.csv", "ratio_of_sums,100,municipalities", "ratio_of_sums,1,municipalities",
     ["computed_kpis.csv 行3 列 factor: 指標 EDU-K01 の単位は % なので、ratio_of_sums の倍率は 100 です(入力: '1')"]),
    ("computed_kpis.csv", "ratio_of_sums,100,municipalities", "average,100,municipalities",
     ["computed_kpis.csv 行3 列 rule: ratio_of_sums か sum が必要です(入力: 'average')"]),
])
def test_catalogue_check_refuses_a_bad_computed_kpi(tmp_path, file, old, new, named):
    """Issue 25.2: each mistake in the declarations is one Japanese line naming file, row and column; exit 1."""
    assert_refused(_broken_project(tmp_path, file, old, new), named)


def test_a_named_group_may_report_a_computed_kpi(tmp_path):
    folder = _broken_project(tmp_path, "computed_kpis.csv", "100,municipalities", "100,避難地域12市町村")
    catalogue = load_catalogue(folder / "catalogue")
    assert {g.name for g in catalogue.reporters_of("EDU-K01", 2024)} == EVACUATED
