"""Issue codes and the Japanese messages a department reads for each.

Every problem shinchoku finds in a workbook has one code here. The message says
what is wrong; the fix says what to do. Both are shown in the run summary, in
``validation_issues``, in the annotated copy and in the error list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Code:
    """One kind of problem: severity, message template and how to fix it."""

    severity: str
    message: str
    fix: str


CODES: dict[str, Code] = {
    # Cell-level problems in the 実績報告 table.
    "value_not_number": Code(ERROR, "実績値「{value}」を数値として読み取れません。", "数値だけを入力してください(例: 48.2)。未集計の場合は空欄のままにしてください。"),
    "unit_mismatch": Code(ERROR, "実績値「{value}」の単位「{detail}」は、この指標の単位「{unit}」に換算できません。", "単位「{unit}」の数値を入力してください。"),
    "unknown_kpi": Code(ERROR, "指標ID「{value}」は指標一覧にありません。", "報告様式に印字された指標IDをそのまま使ってください。"),
    "kpi_not_in_force": Code(ERROR, "指標「{kpi_id}」は{detail}。", "その年度に設定されている指標だけを報告してください。報告様式はその年度のもの(shinchoku template)を使ってください。"),
    "wrong_department": Code(ERROR, "「{kpi_id}」は{detail}の所管です({department}の報告様式には記入できません)。", "所管部局の報告様式で報告するか、DX推進担当へ連絡してください。"),
    "unknown_initiative": Code(ERROR, "項目ID「{value}」は取組項目の一覧にありません。", "報告様式の「取組実績」シートに印字された項目IDをそのまま使ってください。"),
    "bad_fiscal_year": Code(ERROR, "年度「{value}」を読み取れません。", "2023、R5、令和5年度 のように入力してください。"),
    "year_out_of_range": Code(ERROR, "年度 {detail} は計画期間({min_fy}〜{max_fy}年度)の外です。", "計画期間内の年度を入力してください。"),
    "bad_as_of": Code(ERROR, "時点「{value}」を日付として読み取れません。", "2024/2/29、R6.2.29、2月末現在 のように入力するか、年度末の値なら空欄にしてください。"),
    "duplicate_row": Code(ERROR, "指標ID「{kpi_id}」の{detail}の実績が、このファイル内に2回以上あります。", "同じ指標・年度・時点の行は1行にまとめてください。"),
    "percent_out_of_range": Code(ERROR, "実績値 {value} は割合(%)として0〜100の範囲外です。", "0〜100の数値を入力してください(48.2% なら 48.2)。"),
    "negative_value": Code(ERROR, "実績値 {value} が負の数です。この指標は負になりません。", "0以上の数値を入力してください。"),
    "percent_as_fraction": Code(ERROR, "{value} は割合(小数)のようです。{detail} のように百分率で入力するか、セルの表示形式をパーセントにしてください。", "この指標は百分率(%)で報告します。割合のままでは読み取り方が決まらないため受け付けていません。"),
    "formula_error": Code(ERROR, "数式の結果がエラー値「{value}」です。", "数式の参照先や割る数(#DIV/0! は0での割り算)を直し、結果が数値になってから保存して提出してください。"),
    "as_of_conflict": Code(ERROR, "実績値「{value}」の括弧内の記載が、{detail}と食い違っています。", "実績値のセルには数値だけを入力し、時点は「時点」欄、年度は「年度」欄に入力してください。"),
    "period_confirmed": Code(ERROR, "{detail}の{department}の実績は{date}に確定済みのため、変更できません(変更のある指標・項目: {value})。", "訂正が必要な場合はDX推進担当へ連絡してください。確定を解除(shinchoku reopen)してから再提出します。"),
    # The number format hides or changes the number a person sees.
    "scaled_display": Code(ERROR, "実績値のセルは「{value}」と表示されていますが、入力されている数値は {detail} です(表示形式の「,」で桁を省略)。", "表示形式の末尾の「,」を削除して数値がそのまま表示されるようにするか、「#,##0,\"千人\"」のように省略した桁に合う単位を表示形式に付けてください。"),
    "hidden_value": Code(ERROR, "実績値のセルに数値 {detail} が入力されていますが、表示形式により何も表示されていません。", "表示形式を「標準」または「数値」に戻し、表示される数値を確かめてから提出してください。"),
    "shown_as_text": Code(ERROR, "実績値のセルは「{value}」と表示されていますが、入力されている数値は {detail} です。", "0 を報告する場合は表示形式を「標準」にして 0 と表示させてください。未集計の場合はセルを空欄にしてください。"),
    "sign_hidden": Code(ERROR, "実績値のセルは「{value}」と表示されていますが、入力されている数値は負の数 {detail} です。", "表示形式を「標準」にするか、負の数に -・△・▲ が付く表示形式にしてください。"),
    "time_value": Code(ERROR, "実績値「{value}」は時刻として入力されています。", "数値だけを入力し、セルの表示形式を「標準」または「数値」にしてください。"),
    "display_unreadable": Code(ERROR, "実績値「{value}」は分数・括弧付きの負の数・漢数字などの表示形式のため、数値として読み取れません。", "セルの表示形式を「標準」または「数値」にしてください。負の数は △ や - を付けて表示される形式にしてください。"),
    "rounded_to_zero": Code(ERROR, "実績値のセルは「{value}」と表示されていますが、入力されている数値は {detail} です(表示形式の桁数では 0 に見えます)。", "表示形式を「標準」にするか、小数点以下の桁数を増やして、入力した数値が表示されるようにしてください。"),
    "value_too_large": Code(ERROR, "実績値「{value}」は桁が多すぎて数値として扱えません。", "桁数を確認してください。"),
    "formula_no_value": Code(ERROR, "数式の計算結果が保存されていません。", "Excelでファイルを開き、上書き保存してから提出してください。"),
    # The survey sheet (調査票) of a local government: counts, from which a computed KPI is computed.
    "rate_for_count": Code(ERROR, "実数「{value}」は率・割合(%)として入力されています。調査票には件数・人数を入力します。", "率ではなく、その元になる件数・人数を整数で入力してください(該当がなければ 0)。セルの表示形式は「標準」または「数値」にしてください。"),
    "count_not_whole": Code(ERROR, "実数「{value}」は整数ではありません。件数・人数は整数です。", "件数・人数を整数で入力してください(率や割合ではなく、その元になる数。該当がなければ 0)。"),
    "unknown_component": Code(ERROR, "「{kpi_id}」の構成要素ID「{value}」は{detail}。", "調査票に印字された指標ID・構成要素IDをそのまま使ってください。調査票はその年度のもの(DX推進課が配布したもの)を使ってください。"),
    "component_not_expected": Code(ERROR, "「{kpi_id}」の「{value}」は、{detail}の{department}からは報告を求めていない項目です。", "自団体の調査票(DX推進課が配布したもの)に印字された項目だけを報告してください。"),
    "numerator_above_denominator": Code(ERROR, "「{kpi_id}」の{value}が、{detail}を上回っています。", "分子は分母の内数です。件数・人数を確認してください(率ではなく実数を入力します)。"),
    "component_missing": Code(ERROR, "「{kpi_id}」の{value}は記入されていますが、{detail}が空欄です。", "分子と分母は両方を記入してください(該当がなければ 0)。まだ集計できない場合は両方を空欄にしてください。"),
    "survey_in_department_folder": Code(ERROR, "このファイルは県・市町村の「調査票」です。部局「{department}」のフォルダには提出できません。", "部局は「実績報告」の報告様式を提出してください。調査票は各団体が inbox/<団体名>/ のフォルダに提出します。"),
    "return_in_local_government_folder": Code(ERROR, "このファイルは部局の「実績報告」の報告様式です。「{department}」のフォルダには「調査票」を提出してください。", "DX推進課が配布した自団体の調査票に記入して提出してください。"),
    "components_differ": Code(ERROR, "「{kpi_id}」の{value}と{detail}とで、年度または時点が異なります。", "分子と分母は同じ年度・同じ時点の件数を記入してください(時点は両方に同じ日付を書くか、両方を空欄にします)。"),
    "local_government_mismatch": Code(ERROR, "この調査票は「{detail}」用ですが、「{department}」の調査票として提出されました。他の団体用の調査票は受け付けません。", "「{department}」用の調査票(DX推進課が配布したもの)に記入して提出してください。「{detail}」用の調査票は「{detail}」の提出としてだけ受け付けます。"),
    "unknown_local_government": Code(ERROR, "提出した団体を特定できません({detail})。", "DX推進課が配布した自団体用の調査票を、案内された方法で提出してください。"),
    # Workbook-level problems.
    "no_table": Code(ERROR, "「実績報告」の表(見出し: 指標ID・指標名・単位・年度・実績値・時点・備考)も、「調査票」の表(見出し: 指標ID・構成要素ID・項目・単位・年度・実数・時点・備考)も見つかりません。{detail}", "配布された報告様式に記入してください。見出し行を削除・変更しないでください。"),
    "table_twice": Code(ERROR, "「実績報告」の表が2つ以上あります({detail})。", "表は1つのシートに1つだけにしてください。"),
    "department_mismatch": Code(ERROR, "この報告様式は「{detail}」用ですが、「{department}」のフォルダに提出されました。", "自部局の報告様式を、自部局のフォルダに提出してください。"),
    "unknown_department": Code(ERROR, "提出先の部局を特定できません({detail})。", "inbox/<部局名>/ のフォルダに提出してください。"),
    "empty_file": Code(ERROR, "ファイルが空です(0バイト)。", "保存し直したファイルを提出してください。"),
    "not_xlsx": Code(ERROR, "Excelブック(.xlsx)ではありません({detail})。", "Excelで開き「Excelブック(*.xlsx)」形式で保存してください。"),
    "legacy_xls": Code(ERROR, "古い形式のExcelファイル(.xls)です。", "Excelで開き「名前を付けて保存」で「Excelブック(*.xlsx)」形式で保存してから提出してください。"),
    "encrypted": Code(ERROR, "パスワードで保護(暗号化)されたブックです。", "Excelの「ファイル > 情報 > ブックの保護」でパスワードを解除して保存してから提出してください。"),
    "text_file": Code(ERROR, "CSVやテキストのファイルです(Excelブックではありません)。", "Excelで開き「Excelブック(*.xlsx)」形式で保存し直してください。報告様式に貼り付けて提出するのが確実です。"),
    "truncated_file": Code(ERROR, "ファイルが途中で切れています(ダウンロードやコピーが完了していない可能性があります)。", "元のファイルをもう一度保存・コピーしてから提出してください。"),
    "corrupt_file": Code(ERROR, "ファイルが壊れているため読み取れません({detail})。", "Excelで開けるか確認し、保存し直したファイルを提出してください。"),
    "zip_bomb": Code(ERROR, "ファイルの展開後のサイズが上限を超えます({detail})。", "報告様式の表以外のデータを削除して保存し直してください。"),
    "too_many_columns": Code(ERROR, "列が多すぎます({detail})。", "報告様式の表だけを残して保存し直してください。"),
    "too_large": Code(ERROR, "ファイルが大きすぎます({detail})。", "報告様式の表以外のデータを削除して保存し直してください。"),
    "too_many_rows": Code(ERROR, "行が多すぎます({detail})。", "報告様式の表だけを残して保存し直してください。"),
    "too_many_sheets": Code(ERROR, "シートが多すぎます({detail})。", "報告様式のシートだけを残して保存し直してください。"),
    "cell_too_long": Code(ERROR, "セルの文字数が多すぎます({detail})。", "備考などは簡潔に記入してください。"),
    "too_many_cells": Code(ERROR, "入力されたセルが多すぎます({detail})。", "報告様式の表だけを残し、ほかのシートや表の外の入力を削除して保存し直してください。"),
    "xml_too_deep": Code(ERROR, "ファイル内部のXMLの入れ子が深すぎます({detail})。", "Excelで開き、新しいブックに値を貼り付けて保存してください。"),
    "too_complex": Code(ERROR, "ファイル内部のXMLの要素が多すぎます({detail})。", "Excelで開き、新しいブックに値を貼り付けて保存してください。"),
    "too_slow": Code(ERROR, "ブックの読み取りが制限時間内に終わりませんでした({detail})。", "報告様式の表だけを残して保存し直してください。"),
    "unsafe_xml": Code(ERROR, "ファイル内部に安全でないXML(DTD・外部実体)が含まれています。", "Excelで開き、新しいブックに値を貼り付けて保存してください。"),
    "misplaced_file": Code(ERROR, "inbox の直下に置かれたファイルです。", "inbox/<部局名>/ の自部局のフォルダに置き直してください。"),
    "strict_ooxml": Code(ERROR, "「Strict Open XML スプレッドシート」形式で保存されたブックです。", "Excelで開き「名前を付けて保存」で「Excel ブック (*.xlsx)」を選んで保存し直してから提出してください。"),
    "unexpected_error": Code(ERROR, "予期しないエラーで読み取れませんでした({detail})。", "DX推進担当へ連絡してください。"),
    # Warnings: recorded and shown, never a rejection.
    "no_values": Code(WARNING, "実績値が1つも記入されていません。", "記入漏れがないか確認してください。未集計の指標は次回の提出で報告してください。"),
    "approximate_value": Code(WARNING, "実績値「{value}」は概数(約)として受け付けました。", "確定値が出たら再提出してください。"),
    "unit_converted": Code(WARNING, "実績値「{value}」を単位「{unit}」に換算して {detail} として受け付けました。", "換算結果を確認してください。"),
    "suspicious_value": Code(WARNING, "実績値 {value} は基準値からの変化が目標までの差の2倍を超えています。", "桁や単位の誤りがないか確認してください。"),
    "far_above_target": Code(WARNING, "実績値 {value} は目標値の10倍を超えています(基準値が未設定のため、基準値からの変化では確認できません)。", "単位や桁の誤り(万件の指標に件数を入力したなど)がないか確認してください。"),
    "value_jump": Code(WARNING, "記入された値 {value} は、{detail}の値 {previous} の約{factor}です。", "単位の取り違え(件と千件など)や桁の誤りがないか確認してください。値が正しければ対応は不要です。"),
    "wrong_direction": Code(WARNING, "実績値 {value} は基準値より悪化しています(この指標は{detail})。", "値に誤りがないか確認してください。"),
    "as_of_in_value": Code(WARNING, "実績値「{value}」の括弧内の時点を、時点 {detail} として受け付けました。", "次回からは時点を「時点」欄に入力してください。"),
    "renamed_department": Code(WARNING, "「{detail}」は組織改正により「{department}」になっています。「{department}」の提出として受け付けました。", "次回からは inbox/{department}/ のフォルダに、「{department}」の報告様式で提出してください。"),
    "confirmed_without_sheet": Code(ERROR, "{detail}の{value}の集計は{date}に、{department}の調査票が届く前に確定されました。この調査票の件数は集計に反映できません。", "反映が必要な場合は、DX推進担当へ連絡してください。確定が解除されたら、この調査票をそのまま再提出してください。"),
    "unchanged_after_confirmation": Code(WARNING, "{detail}の{department}の実績は{date}に確定済みです。この報告の内容は確定したものと同じため、新しい版は作らず確定のままとしました。", "訂正がなければ対応は不要です。"),
    "explanation_missing": Code(WARNING, "「{kpi_id}」の実績は{detail}ため、「要因分析」に理由の記入が必要です。", "「要因分析」に実績がこの値になった理由を、「今後の方向性」に今後の取組を記入して再提出してください。評価シートで委員会に示されます。"),
    "as_of_outside_year": Code(WARNING, "時点 {detail} が年度の期間外です。", "時点の日付を確認してください。"),
    "year_differs": Code(WARNING, "年度欄の{value}は、この報告様式の年度({detail})と異なります。{value}の実績として受け付けました。", "前年度以前の実績の訂正でなければ、年度欄を報告様式の年度にしてください。"),
    "macro_workbook": Code(WARNING, "マクロ付きブック(.xlsm)です。マクロは実行せず、値のみ読み取りました。", "次回からはマクロなしの .xlsx で提出してください。"),
    "control_character_removed": Code(WARNING, "「{value}」欄の文字列に制御文字(垂直タブなど)が含まれていたため、取り除いて受け付けました。", "取り除いた後の文字列を確認してください。PowerPointなどから貼り付けた文字には、見えない制御文字が含まれることがあります。"),
    "external_value": Code(WARNING, "実績値「{value}」は、外部のブック(またはDDE)を参照する数式の保存値です。", "参照先のブックの現在の値とは限りません。値を確認し、数式ではなく数値を入力(値の貼り付け)して提出してください。"),
    "computed_kpi_reported": Code(WARNING, "「{kpi_id}」は県・市町村の調査票の件数・人数から算出する指標です。この実績値は受け付けましたが、調査票の集計がある年度は集計した値を用います。", "対応は不要です。調査票の集計がない場合に、この実績値を用います。"),
    "rejected_folder_unsafe": Code(WARNING, "差戻しファイルを移す「rejected」フォルダが{detail}ため、このファイルを移動せず、エラー一覧・エラー箇所ファイルも作成していません。", "部局フォルダ内の「rejected」(シンボリックリンクやファイル)を削除してください。次回の取込で取込処理が作り直し、このファイルを改めて検証して移動します。"),
    "duplicate_file": Code(WARNING, "以前に提出されたファイル(提出番号 {detail})と同一の内容です。取り込みは行いません。", "修正した場合は、修正後のファイルを提出してください。"),
}


@dataclass
class Issue:
    """One problem found in one workbook, located by sheet and cell where possible."""

    code: str
    sheet: str | None = None
    cell: str | None = None
    kpi_id: str | None = None
    params: dict = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return CODES[self.code].severity

    @property
    def message(self) -> str:
        return _fill(CODES[self.code].message, self)

    @property
    def fix(self) -> str:
        return _fill(CODES[self.code].fix, self)

    def location(self) -> str:
        """Where the problem is, as a department reads it: 実績報告!E7."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or "(ブック全体)"


# The sheet 「エラー一覧」 added to an annotated copy: one row per problem, written by both writers.
ERROR_SHEET = "エラー一覧"
ERROR_HEADER = ("シート", "セル", "指標ID", "重要度", "コード", "内容", "直し方")
ERROR_WIDTHS = (12, 8, 10, 8, 20, 60, 60)


def error_row(issue: Issue) -> tuple[str, ...]:
    """One 「エラー一覧」 row, in ERROR_HEADER's order."""
    return (issue.sheet or "(ブック全体)", issue.cell or "", issue.kpi_id or "",
            "エラー" if issue.severity == ERROR else "警告", issue.code, issue.message, issue.fix)


def error_link(issue: Issue) -> str:
    """Where a 「エラー一覧」 row's セル links to: 'シート'!E7 (quotes doubled inside the name)."""
    return "'" + (issue.sheet or "").replace("'", "''") + "'!" + (issue.cell or "")


class _Blank(dict):
    def __missing__(self, key):
        return ""


# The messages speak of a KPI's 実績値; on the 取組実績 sheet the cell is an initiative's 数値.
_OUTCOME_WORDS = (("実績値", "数値"), ("この指標", "この取組項目"))
# On the 調査票 the cell is a count's 実数.
_SURVEY_WORDS = (("実績値", "実数"), ("この指標", "この項目"), ("報告様式", "調査票"))


def _fill(template: str, issue: Issue) -> str:
    params = _Blank(issue.params)
    params.setdefault("kpi_id", issue.kpi_id or "")
    text = template.format_map(params)
    words = {"outcome": _OUTCOME_WORDS, "survey": _SURVEY_WORDS}.get(params.get("subject"), ())
    for kpi_word, other_word in words:
        text = text.replace(kpi_word, other_word)
    return text


MAX_REPORTED_DECIMALS = 6  # beyond this a double's digits are noise (0.1 + 0.2), never a department's


def reported_decimals(value: float, at_least: int | None = 0) -> int:
    """The decimals a department gave: those of the value's shortest round-trip form (16.8 → 1, 1234.0 → 0),
    at most MAX_REPORTED_DECIMALS, and never fewer than ``at_least`` (a plan's precision: 61 with 80.0% → 1)."""
    floor = at_least or 0
    if not math.isfinite(value):
        return floor
    given = -Decimal(repr(float(value))).normalize().as_tuple().exponent
    if given > MAX_REPORTED_DECIMALS:  # noise beyond the cap: the digits of the value rounded to it
        given = -Decimal(repr(round(float(value), MAX_REPORTED_DECIMALS))).normalize().as_tuple().exponent
    return max(floor, min(given, MAX_REPORTED_DECIMALS))


def format_number(value: float, at_least: int | None = 0) -> str:
    """A number as reported, in full: thousands separators, its own decimals (at least ``at_least``), never an
    exponent: 12345678.0 -> 12,345,678, 146.1 -> 146.1, 1e20 -> 100,000,...,000; -0.0 shows as 0."""
    if not math.isfinite(value):
        return str(value)
    return f"{value + 0.0:,.{reported_decimals(value, at_least)}f}"


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row0: int, col0: int) -> str:
    """0-based row and column -> A1 notation."""
    return f"{column_letter(col0)}{row0 + 1}"
