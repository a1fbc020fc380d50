"""The return sheet's fixed layout, shared by the writer and the reader (no heavy imports)."""

SHEET = "実績報告"
HEADER = ("指標ID", "指標名", "単位", "年度", "実績値", "時点", "備考")
EXPLANATION = ("要因分析", "今後の方向性")  # after 備考; older return sheets lack them
REFERENCE = ("基準値", "基準年度", "目標値", "目標年度")
PREVIOUS = ("前年度実績", "前年度評価")  # the accepted value and grade of the year before, when the warehouse has them
HEADER_ROW = 6  # 1-based row of the header in the template
PROP_DEPARTMENT = "shinchoku_department"
PROP_FISCAL_YEAR = "shinchoku_fiscal_year"
PROP_VERSION = "shinchoku_template"
TEMPLATE_VERSION = "1"

OUTCOME_SHEET = "取組実績"
OUTCOME_HEADER = ("項目ID", "項目名", "年度", "取組内容", "成果・効果", "数値", "単位", "時点")

# The survey sheet (調査票) a local government fills in: one row per count (component of a computed KPI)
# expected from it that year. Its folder inbox/<団体名>/ names the local government, as a department's
# folder names the department; the workbook also records the government's 6-digit code.
SURVEY_SHEET = "調査票"
SURVEY_HEADER = ("指標ID", "構成要素ID", "項目", "単位", "年度", "実数", "時点", "備考")
SURVEY_KEY = "構成要素ID"
SURVEY_VALUE = "実数"  # a count: a whole number of 件 or 人, never a rate
PROP_LOCAL_GOVERNMENT = "shinchoku_local_government"
