"""Rewrite the English catalogue from the template strings and the translations below.

Templates are written in Chinese (the first language); this table gives each string's
English. A string without an entry fails loudly so nothing ships untranslated.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent / "src" / "jianguan"
ENGLISH = {
    "上一页": "Previous",
    "下一页": "Next",
    "下辖监所": "Facilities under this unit",
    "今日入所": "Admitted today",
    "代码": "Code",
    "入所时间": "Admitted at",
    "出所在外": "Out of facility",
    "出所时间": "Left at",
    "出生日期": "Date of birth",
    "办案单位": "Case unit",
    "动态口令": "One-time code",
    "动态口令验证": "Second factor",
    "单位": "Units",
    "名称": "Name",
    "后续版本提供": "Coming in a later release",
    "国籍": "Nationality",
    "在押": "Held",
    "在押人员": "Detainees",
    "在押人数": "Held now",
    "在押情况": "Roll",
    "姓名": "Name",
    "姓名/编号": "Name / number",
    "审计日志": "Audit log",
    "密码": "Password",
    "对象": "Object",
    "层级": "Level",
    "岗位": "Posts",
    "工作台": "Desk",
    "性别": "Gender",
    "所领导和系统管理员须输入手机认证器上的 6 位动态口令。": "Leaders and administrators must enter the 6-digit code from their authenticator app.",
    "操作": "Action",
    "无权限": "Not permitted",
    "无法完成": "Could not be done",
    "时间": "Time",
    "智慧监管平台": "Smart Supervision Platform",
    "暂无动态": "No recent activity",
    "最新动态": "Recent activity",
    "未找到": "Not found",
    "本单位及下级单位": "My unit and below",
    "来源": "From",
    "查看本档案已记入审计日志。": "Viewing this record has been audited.",
    "查询": "Search",
    "案件性质": "Offence",
    "案件编号": "Case number",
    "民族": "Ethnicity",
    "民警登录": "Officer login",
    "没有符合条件的人员": "Nobody matches",
    "法律措施": "Legal measure",
    "状态": "Status",
    "用户": "User",
    "用户名": "Username",
    "登录": "Log in",
    "监室": "Cell",
    "监所": "Facility",
    "类型": "Kind",
    "系统管理": "Administration",
    "结果": "Outcome",
    "编号": "Number",
    "节点层级": "Node level",
    "证件": "ID document",
    "诉讼阶段": "Litigation stage",
    "返回工作台": "Back to my desk",
    "退出": "Log out",
    "验证": "Verify",
}
PLURALS = {"共 %(n)s 人": ("%(n)s person", "%(n)s people")}

pattern = re.compile(r'{% translate "([^"]+)" %}')
found = sorted(
    {m for f in ROOT.glob("**/templates/**/*.html") for m in pattern.findall(f.read_text())}
)
missing = [s for s in found if s not in ENGLISH]
if missing:
    sys.exit(f"untranslated strings: {missing}")
po = polib.POFile()
po.metadata = {
    "Content-Type": "text/plain; charset=UTF-8",
    "Language": "en",
    "Plural-Forms": "nplurals=2; plural=(n != 1);",
}
for msgid in found:
    po.append(polib.POEntry(msgid=msgid, msgstr=ENGLISH[msgid]))
for msgid, (one, many) in PLURALS.items():
    po.append(polib.POEntry(msgid=msgid, msgid_plural=msgid, msgstr_plural={0: one, 1: many}))
out = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
po.save(str(out))
print(f"wrote {len(po)} entries to {out.relative_to(ROOT.parent.parent)}")
