"""The deadline engine against LAW.md §1: exact expiries, refusals and stages, with articles.

Day-precision clocks are given by their last day (expires_at is the local midnight after it);
police pre-arrest custody by its exact expiry instant.
"""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
import yaml

from jianguan.custody.deadlines import (
    BUILTIN_PATH,
    FACT_KINDS,
    Clock,
    DeadlinePack,
    DeadlineRefused,
    LegalFact,
    Person,
    builtin_pack,
    check,
    compute,
    parse_pack,
    stage_after,
)
from jianguan.custody.deadlines import calendar as cal

PACK = builtin_pack()
CRIMINAL, ARRESTED, ADMIN, JUDICIAL, REHAB, IMMIGRATION = "10", "20", "40", "41", "50", "60"


def at(text: str) -> datetime:
    """A local (Asia/Shanghai) instant: "2026-03-01" or "2026-03-01 22:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=cal.TZ)


def end_of(day: str) -> datetime:
    """The exclusive end of a day-precision deadline whose last day is `day`."""
    return at(day) + timedelta(days=1)


def f(kind: str, when: str, approval: str = "", /, **params: Any) -> LegalFact:
    """A fact whose id is unique within a test; params may themselves be called `kind`."""
    return LegalFact(id=f"{kind}@{when}", kind=kind, at=at(when), approval=approval, params=params)


def person(measure: str = ARRESTED, admitted: str = "2026-01-01 09:00") -> Person:
    return Person(legal_measure=measure, admitted_at=at(admitted))


def clocks(
    measure: str, facts: list[LegalFact], pack: DeadlinePack = PACK, admitted: str = "2026-01-01"
) -> dict[str, Clock]:
    return {c.clock: c for c in compute(person(measure, admitted), facts, pack)}


def refusal(measure: str, facts: list[LegalFact], new: LegalFact) -> DeadlineRefused:
    with pytest.raises(DeadlineRefused) as caught:
        check(person(measure), facts, new, PACK)
    return caught.value


def pack_with(change: Any) -> DeadlinePack:
    """The built-in pack with one setting changed, as a province would publish it."""
    content = yaml.safe_load(BUILTIN_PATH.read_text(encoding="utf-8"))
    change(content)
    return parse_pack(content)


# Common beginnings of a record.
DETAINED = f("DETENTION_EXECUTED", "2026-03-01 22:30")
ARREST = f("ARREST_EXECUTED", "2026-03-10 10:00")  # investigative custody to 2026-05-10
STEP1 = f("INVESTIGATION_EXTENDED", "2026-05-01 10:00", "UPPER_PROCURATORATE", step="1")
STEP2 = f(
    "INVESTIGATION_EXTENDED",
    "2026-06-01 10:00",
    "PROVINCIAL_PROCURATORATE",
    step="2",
    category="CRIMINAL_GROUP",
)
TRANSFER = f("TRANSFERRED_FOR_PROSECUTION", "2026-05-05 10:00")  # review to 2026-06-05
RETURN1 = f("RETURNED_FOR_SUPPLEMENT", "2026-05-20 10:00")
RETRANSFER1 = f("RETRANSFERRED", "2026-06-15 10:00")
RETURN2 = f("RETURNED_FOR_SUPPLEMENT", "2026-07-01 10:00")
RETRANSFER2 = f("RETRANSFERRED", "2026-07-20 10:00")
TRIAL = f("PROSECUTED", "2026-07-01 10:00", procedure="ORDINARY")  # to 2026-10-01
JUDGED = f("FIRST_JUDGMENT", "2026-09-10 10:00", received_on="2026-09-12")
APPEAL = f("APPEAL_ACCEPTED", "2026-10-20 10:00")


# --- day-precision expiries -------------------------------------------------------------------

DAY_CASES = [
    # (case, measure, facts, clock, last day, article fragment)
    pytest.param(
        ARRESTED,
        [DETAINED, f("ARREST_REQUESTED", "2026-03-03 10:00")],
        "ARREST_REVIEW",
        "2026-03-10",
        "刑事诉讼法第九十一条第三款",
        id="procuratorate decides on arrest within 7 days of receipt, CPL 91(3)",
    ),
    pytest.param(
        ARRESTED,
        [ARREST],
        "INVESTIGATION",
        "2026-05-10",
        "刑事诉讼法第一百五十六条",
        id="arrest 2026-03-10 + 2 months = 2026-05-10, CPL 156",
    ),
    pytest.param(
        ARRESTED,
        [f("ARREST_EXECUTED", "2024-01-31 10:00")],
        "INVESTIGATION",
        "2024-03-31",
        "公安机关适用刑事羁押期限规定第四条",
        id="arrest 2024-01-31 + 2 months = 2024-03-31, GA-Custody-Term 4",
    ),
    pytest.param(
        ARRESTED,
        [f("ARREST_EXECUTED", "2023-12-31 10:00")],
        "INVESTIGATION",
        "2024-02-29",
        "公安机关适用刑事羁押期限规定第四条",
        id="arrest 2023-12-31 + 2 months = 2024-02-29 leap day, GA-Custody-Term 4",
    ),
    pytest.param(
        ARRESTED,
        [
            f("ARREST_EXECUTED", "2023-01-31 10:00"),
            f("INVESTIGATION_EXTENDED", "2023-03-20", "UPPER_PROCURATORATE", step="1"),
        ],
        "INVESTIGATION",
        "2023-04-30",
        "刑事诉讼法第一百五十六条",
        id="arrest 2023-01-31 + 2 + 1 months = 2023-04-30, CPL 156",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, STEP1],
        "INVESTIGATION",
        "2026-06-10",
        "公安机关办理刑事案件程序规定第一百四十八条",
        id="first extension +1 month by the upper procuratorate to 2026-06-10, CPL 156",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, STEP1, STEP2],
        "INVESTIGATION",
        "2026-08-10",
        "刑事诉讼法第一百五十八条",
        id="second extension +2 months by the provincial procuratorate to 2026-08-10, CPL 158",
    ),
    pytest.param(
        ARRESTED,
        [
            ARREST,
            STEP1,
            STEP2,
            f(
                "INVESTIGATION_EXTENDED",
                "2026-08-01",
                "PROVINCIAL_PROCURATORATE",
                step="3",
                possible_sentence_10y=True,
            ),
        ],
        "INVESTIGATION",
        "2026-10-10",
        "刑事诉讼法第一百五十九条",
        id="third extension +2 months for a possible 10-year sentence to 2026-10-10, CPL 159",
    ),
    pytest.param(
        ARRESTED,
        [
            ARREST,
            STEP1,
            f(
                "NEW_CRIME_DISCOVERED",
                "2026-05-20 10:00",
                "COUNTY_POLICE",
                discovered_on="2026-05-18",
            ),
        ],
        "INVESTIGATION",
        "2026-07-18",
        "刑事诉讼法第一百六十条第一款",
        id="new crime discovered 2026-05-18 restarts 2 months to 2026-07-18, CPL 160(1)",
    ),
    pytest.param(
        ARRESTED,
        [
            f("IDENTITY_UNKNOWN", "2026-03-02 10:00"),
            ARREST,
            f("IDENTITY_ESTABLISHED", "2026-04-15 16:00"),
        ],
        "INVESTIGATION",
        "2026-06-15",
        "刑事诉讼法第一百六十条第二款",
        id="identity established 2026-04-15 starts the term to 2026-06-15, CPL 160(2)",
    ),
    pytest.param(
        ARRESTED,
        [
            ARREST,
            f("EVALUATION_STARTED", "2026-04-01 10:00", kind="PSYCHIATRIC"),
            f("EVALUATION_ENDED", "2026-04-21 10:00"),
        ],
        "INVESTIGATION",
        "2026-05-30",
        "刑事诉讼法第一百四十九条",
        id="psychiatric evaluation 04-01 to 04-21 adds 20 days: 2026-05-30, CPL 149",
    ),
    pytest.param(
        ARRESTED,
        [
            ARREST,
            f("EVALUATION_STARTED", "2026-04-01 10:00", kind="DNA"),
            f("EVALUATION_ENDED", "2026-04-21 10:00"),
        ],
        "INVESTIGATION",
        "2026-05-10",
        "刑事诉讼法第一百五十六条",
        id="other evaluations are counted: still 2026-05-10, GA-Proc 257",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, TRANSFER],
        "PROSECUTION_REVIEW",
        "2026-06-05",
        "刑事诉讼法第一百七十二条第一款",
        id="review for prosecution 1 month from 2026-05-05 to 2026-06-05, CPL 172",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, f("TRANSFERRED_FOR_PROSECUTION", "2026-05-05", fast_track=True)],
        "PROSECUTION_REVIEW",
        "2026-05-15",
        "速裁",
        id="fast-track review 10 days to 2026-05-15, CPL 172",
    ),
    pytest.param(
        ARRESTED,
        [
            ARREST,
            f(
                "TRANSFERRED_FOR_PROSECUTION",
                "2026-05-05",
                fast_track=True,
                possible_sentence_over_1y=True,
            ),
        ],
        "PROSECUTION_REVIEW",
        "2026-05-20",
        "超过一年",
        id="fast-track review with a sentence over 1 year 15 days to 2026-05-20, CPL 172",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, TRANSFER, f("PROSECUTION_EXTENDED", "2026-06-01", "PROCURATORATE")],
        "PROSECUTION_REVIEW",
        "2026-06-20",
        "人民检察院刑事诉讼规则第三百五十一条",
        id="complex case review extended 15 days to 2026-06-20, CPL 172",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, TRANSFER, RETURN1],
        "SUPPLEMENTARY_INVESTIGATION",
        "2026-06-20",
        "刑事诉讼法第一百七十五条第三款",
        id="supplementary investigation 1 month from 2026-05-20 to 2026-06-20, CPL 175(3)",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, TRANSFER, RETURN1, RETRANSFER1],
        "PROSECUTION_REVIEW",
        "2026-07-15",
        "刑事诉讼法第一百七十五条第三款",
        id="re-transfer 2026-06-15 recalculates review to 2026-07-15, CPL 175(3)",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL],
        "FIRST_INSTANCE",
        "2026-10-01",
        "刑事诉讼法第二百零八条第一款",
        id="ordinary first instance at the latest 3 months to 2026-10-01, CPL 208",
    ),
    pytest.param(
        ARRESTED,
        [f("PROSECUTED", "2024-02-29 10:00")],
        "FIRST_INSTANCE",
        "2024-05-31",
        "刑事诉讼法第二百零八条第一款",
        id="court month arithmetic from 2024-02-29 ends on 2024-05-31, SPC-Interp 202(1)",
    ),
    pytest.param(
        ARRESTED,
        [f("PROSECUTED", "2026-07-01", procedure="SIMPLIFIED")],
        "FIRST_INSTANCE",
        "2026-07-21",
        "刑事诉讼法第二百二十条",
        id="simplified procedure 20 days to 2026-07-21, CPL 220",
    ),
    pytest.param(
        ARRESTED,
        [f("PROSECUTED", "2026-07-01", procedure="SIMPLIFIED", possible_sentence_over_3y=True)],
        "FIRST_INSTANCE",
        "2026-08-16",
        "刑事诉讼法第二百二十条",
        id="simplified procedure over 3 years 1.5 months to 2026-08-16, CPL 220",
    ),
    pytest.param(
        ARRESTED,
        [f("PROSECUTED", "2026-07-01", procedure="SUMMARY")],
        "FIRST_INSTANCE",
        "2026-07-11",
        "刑事诉讼法第二百二十五条",
        id="summary procedure 10 days to 2026-07-11, CPL 225",
    ),
    pytest.param(
        ARRESTED,
        [f("PROSECUTED", "2026-07-01", procedure="SUMMARY", possible_sentence_over_1y=True)],
        "FIRST_INSTANCE",
        "2026-07-16",
        "刑事诉讼法第二百二十五条",
        id="summary procedure over 1 year 15 days to 2026-07-16, CPL 225",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, f("FIRST_INSTANCE_EXTENDED", "2026-09-01", "UPPER_COURT")],
        "FIRST_INSTANCE",
        "2027-01-01",
        "第二百一十条第一款",
        id="upper court extends first instance 3 months to 2027-01-01, CPL 208, SPC-Interp 210",
    ),
    pytest.param(
        ARRESTED,
        [
            TRIAL,
            f("FIRST_INSTANCE_EXTENDED", "2026-09-01", "UPPER_COURT"),
            f("FIRST_INSTANCE_EXTENDED", "2026-12-01", "SUPREME_COURT", months=2),
        ],
        "FIRST_INSTANCE",
        "2027-03-01",
        "第二百一十条第三款",
        id="supreme court extends a further 2 months to 2027-03-01, SPC-Interp 210(3)",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, f("TRIAL_POSTPONED", "2026-08-01")],
        "SUPPLEMENTARY_INVESTIGATION",
        "2026-09-01",
        "第二百七十四条",
        id="postponed trial: prosecutor's supplementary investigation 1 month, CPL 205",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, f("TRIAL_POSTPONED", "2026-08-01"), f("TRIAL_RESUMED", "2026-08-20")],
        "FIRST_INSTANCE",
        "2026-11-20",
        "刑事诉讼法第二百零八条第三款",
        id="case back 2026-08-20 recalculates the trial term to 2026-11-20, CPL 208(3)",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, f("TRIAL_SUSPENDED", "2026-08-01"), f("TRIAL_SUSPENSION_ENDED", "2026-08-31")],
        "FIRST_INSTANCE",
        "2026-10-31",
        "刑事诉讼法第二百零六条第二款",
        id="trial suspended 30 days is not counted: 2026-10-31, CPL 206",
    ),
    pytest.param(
        ARRESTED,
        [
            TRIAL,
            f("EVALUATION_STARTED", "2026-08-01", kind="PSYCHIATRIC"),
            f("EVALUATION_ENDED", "2026-08-11"),
        ],
        "FIRST_INSTANCE",
        "2026-10-11",
        "第二百一十一条",
        id="psychiatric evaluation during trial not counted: 2026-10-11, SPC-Interp 211",
    ),
    pytest.param(
        ARRESTED,
        [
            f("PROSECUTED", "2026-07-01", procedure="SIMPLIFIED"),
            f("PROCEDURE_CONVERTED", "2026-07-10", procedure="ORDINARY"),
        ],
        "FIRST_INSTANCE",
        "2026-10-10",
        "第三百七十六条",
        id="conversion to ordinary procedure 2026-07-10 counts from the decision, SPC-Interp 376",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, JUDGED],
        "APPEAL_PERIOD",
        "2026-09-22",
        "刑事诉讼法第二百三十条",
        id="appeal period 10 days from the day after receipt 2026-09-12, CPL 230",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, f("FIRST_JUDGMENT", "2026-09-10", document="RULING", received_on="2026-09-12")],
        "APPEAL_PERIOD",
        "2026-09-17",
        "刑事诉讼法第二百三十条",
        id="appeal against a ruling 5 days, CPL 230",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, JUDGED, APPEAL],
        "SECOND_INSTANCE",
        "2026-12-20",
        "刑事诉讼法第二百四十三条",
        id="second instance 2 months from 2026-10-20, CPL 243",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, JUDGED, APPEAL, f("SECOND_INSTANCE_EXTENDED", "2026-12-01", "HIGH_COURT")],
        "SECOND_INSTANCE",
        "2027-02-20",
        "刑事诉讼法第二百四十三条",
        id="high court extends second instance 2 months to 2027-02-20, CPL 243",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, JUDGED, APPEAL, f("REMANDED", "2026-11-15")],
        "FIRST_INSTANCE",
        "2027-02-15",
        "刑事诉讼法第二百四十一条",
        id="remanded case recalculated from receipt 2026-11-15, CPL 241",
    ),
    pytest.param(
        ARRESTED,
        [
            f(
                "JUDGMENT_EFFECTIVE",
                "2025-03-15",
                penalty="FIXED_TERM",
                term_years=1,
                term_months=6,
                custody_credit_from="2024-11-02",
            )
        ],
        "SENTENCE",
        "2026-05-01",
        "第二百零二条第二款",
        id="1 year 6 months effective 2025-03-15, custody since 2024-11-02: to 2026-05-01",
    ),
    pytest.param(
        ARRESTED,
        [
            f(
                "JUDGMENT_EFFECTIVE",
                "2025-03-15",
                penalty="FIXED_TERM",
                term_years=1,
                term_months=6,
                credit_days=133,
            )
        ],
        "SENTENCE",
        "2026-05-01",
        "折抵刑期",
        id="133 days of credited custody give the same end 2026-05-01",
    ),
    pytest.param(
        ARRESTED,
        [
            f("DETENTION_EXECUTED", "2024-11-02 21:00"),
            f(
                "JUDGMENT_EFFECTIVE",
                "2025-03-15",
                penalty="FIXED_TERM",
                term_years=1,
                term_months=6,
            ),
        ],
        "SENTENCE",
        "2026-05-01",
        "第二百零二条第二款",
        id="credit defaults to the first custody fact in the record (2024-11-02)",
    ),
    pytest.param(
        "31",
        [
            f(
                "JUDGMENT_EFFECTIVE",
                "2026-02-01",
                penalty="DETENTION",
                term_months=4,
                custody_credit_from="2026-01-10",
            )
        ],
        "SENTENCE",
        "2026-05-09",
        "刑法第四十四条",
        id="拘役 4 months from 2026-01-10 ends 2026-05-09, SPC-Interp 202(2)",
    ),
    pytest.param(
        ARRESTED,
        [
            f(
                "JUDGMENT_EFFECTIVE",
                "2024-02-10",
                penalty="FIXED_TERM",
                term_months=1,
                custody_credit_from="2024-01-31",
            )
        ],
        "SENTENCE",
        "2024-02-28",
        "第二百零二条第二款",
        id="a month's sentence from 2024-01-31 ends 2024-02-28, the day before the last day",
    ),
    pytest.param(
        ARRESTED,
        [
            f(
                "JUDGMENT_EFFECTIVE",
                "2026-02-01",
                penalty="FIXED_TERM",
                term_years=3,
                custody_credit_from="2025-01-01",
            ),
            f("EXECUTION_NOTICE_RECEIVED", "2026-03-01"),
        ],
        "DELIVERY_TO_PRISON",
        "2026-04-01",
        "监狱法第十五条",
        id="police deliver to prison within 1 month of the notice, Prison Law 15",
    ),
    pytest.param(
        ADMIN,
        [f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days=10)],
        "ADMIN_DETENTION",
        "2026-05-11",
        "拘留所条例第三十二条",
        id="10 days of administrative detention from 2026-05-01 end on 2026-05-11, JLS-Reg 32",
    ),
    pytest.param(
        ADMIN,
        [f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days=10, credit_days=2)],
        "ADMIN_DETENTION",
        "2026-05-09",
        "治安管理处罚法第九十二条",
        id="2 days of prior restriction credited: 2026-05-09, PSAPL 92",
    ),
    pytest.param(
        ADMIN,
        [
            f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days=12),
            f("ADMIN_DETENTION_EXECUTED", "2026-05-03 08:00", days=8),
        ],
        "ADMIN_DETENTION",
        "2026-05-21",
        "拘留所条例第三十二条",
        id="two decisions 12 + 8 executed together: 20 days to 2026-05-21, PSAPL 16",
    ),
    pytest.param(
        ADMIN,
        [
            f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days=10),
            f("LEAVE_STARTED", "2026-05-03 09:00"),
            f("LEAVE_ENDED", "2026-05-05 18:00"),
        ],
        "ADMIN_DETENTION",
        "2026-05-13",
        "拘留所条例第三十二条",
        id="2 days of leave are not counted: 2026-05-13, JLS-Reg 27",
    ),
    pytest.param(
        JUDICIAL,
        [f("JUDICIAL_DETENTION_EXECUTED", "2026-06-01 15:00", days=15)],
        "JUDICIAL_DETENTION",
        "2026-06-16",
        "拘留所条例第二条",
        id="15 days of judicial detention from 2026-06-01 end on 2026-06-16",
    ),
    pytest.param(
        REHAB,
        [f("DRUG_REHAB_DECIDED", "2026-02-28 10:00")],
        "DRUG_REHAB",
        "2028-02-27",
        "禁毒法第四十七条第一款",
        id="2 years from the decision 2026-02-28, start day counted: 2028-02-27, Drug 47",
    ),
    pytest.param(
        REHAB,
        [f("DRUG_REHAB_DECIDED", "2024-02-29 10:00")],
        "DRUG_REHAB",
        "2026-02-27",
        "戒毒条例第二十七条第一款",
        id="2 years from 2024-02-29 end the day before 2026-02-28, Rehab 27",
    ),
    pytest.param(
        REHAB,
        [
            f("DRUG_REHAB_DECIDED", "2026-02-28 10:00"),
            f("DRUG_REHAB_EXTENDED", "2027-12-01", "DECIDING_ORGAN", months=6),
        ],
        "DRUG_REHAB",
        "2028-08-27",
        "禁毒法第四十七条第三款",
        id="extended 6 months to 2028-08-27, Drug 47(3)",
    ),
    pytest.param(
        REHAB,
        [
            f("DRUG_REHAB_DECIDED", "2026-02-28 10:00"),
            f("DRUG_REHAB_EXTENDED", "2027-12-01", "DECIDING_ORGAN"),
        ],
        "DRUG_REHAB",
        "2029-02-27",
        "禁毒法第四十七条第三款",
        id="extended by the whole year to 2029-02-27, Drug 47(3)",
    ),
    pytest.param(
        REHAB,
        [f("DRUG_REHAB_DECIDED", "2026-02-28 10:00", executed_on="2026-03-02")],
        "DRUG_REHAB_POLICE_STAGE",
        "2026-09-01",
        "戒毒条例第二十七条第二款",
        id="police facility at most 6 months from 2026-03-02, Rehab 27(2)",
    ),
    pytest.param(
        REHAB,
        [
            f(
                "DRUG_REHAB_DECIDED",
                "2026-02-28 10:00",
                executed_on="2026-03-02",
                extended_police_stage=True,
            )
        ],
        "DRUG_REHAB_POLICE_STAGE",
        "2027-03-01",
        "戒毒条例第二十七条第三款",
        id="provincial plan: police facility at most 12 months, Rehab 27(3)",
    ),
    pytest.param(
        IMMIGRATION,
        [f("IMMIGRATION_DETENTION", "2026-04-01 10:00")],
        "IMMIGRATION_DETENTION",
        "2026-05-01",
        "出境入境管理法第六十条",
        id="拘留审查 30 days from 2026-04-01, Exit-Entry 60",
    ),
    pytest.param(
        IMMIGRATION,
        [
            f("IMMIGRATION_DETENTION", "2026-04-01 10:00"),
            f("IMMIGRATION_EXTENDED", "2026-04-25", "UPPER_POLICE"),
        ],
        "IMMIGRATION_DETENTION",
        "2026-05-31",
        "出境入境管理法第六十条",
        id="complex case extended to 60 days: 2026-05-31, Exit-Entry 60",
    ),
    pytest.param(
        IMMIGRATION,
        [
            f("IMMIGRATION_DETENTION", "2026-04-01 10:00"),
            f("IMMIGRATION_EXTENDED", "2026-04-25", "UPPER_POLICE", days=20),
        ],
        "IMMIGRATION_DETENTION",
        "2026-05-21",
        "出境入境管理法第六十条",
        id="extended by 20 days to 2026-05-21, Exit-Entry 60",
    ),
    pytest.param(
        IMMIGRATION,
        [
            f("IDENTITY_UNKNOWN", "2026-04-01 09:00"),
            f("IMMIGRATION_DETENTION", "2026-04-01 10:00"),
            f("IDENTITY_ESTABLISHED", "2026-04-10 10:00"),
        ],
        "IMMIGRATION_DETENTION",
        "2026-05-10",
        "出境入境管理法第六十条第三款",
        id="nationality established 2026-04-10: 30 days from then, Exit-Entry 60",
    ),
]


@pytest.mark.parametrize(("measure", "facts", "clock", "last_day", "article"), DAY_CASES)
def test_day_deadline_ends_on_the_expected_last_day(
    measure: str, facts: list[LegalFact], clock: str, last_day: str, article: str
) -> None:
    result = clocks(measure, facts)[clock]
    assert result.precision == "day"
    assert result.expires_at == end_of(last_day)
    assert article in result.article


# --- police pre-arrest custody in hours ----------------------------------------------------------

HOUR_CASES = [
    pytest.param(
        [DETAINED],
        "2026-03-04 22:30",
        "刑事诉讼法第九十一条第一款",
        id="executed 2026-03-01 22:30 + 3 x 24 h = 2026-03-04 22:30, CPL 91(1)",
    ),
    pytest.param(
        [DETAINED, f("DETENTION_EXTENDED", "2026-03-03 10:00", "COUNTY_POLICE", days=4)],
        "2026-03-08 22:30",
        "公安机关办理刑事案件程序规定第一百二十九条第一款",
        id="special circumstances +4 days, 7 in total: 2026-03-08 22:30, GA-Proc 129(1)",
    ),
    pytest.param(
        [
            DETAINED,
            f("DETENTION_EXTENDED", "2026-03-03 10:00", "COUNTY_POLICE", days=2),
            f("DETENTION_EXTENDED", "2026-03-06 10:00", "COUNTY_POLICE", days=2),
        ],
        "2026-03-08 22:30",
        "公安机关办理刑事案件程序规定第一百二十九条第一款",
        id="two extensions of 2 days stay within 7: 2026-03-08 22:30",
    ),
    pytest.param(
        [DETAINED, f("DETENTION_EXTENDED", "2026-03-03 10:00", "COUNTY_POLICE", category="ROVING")],
        "2026-03-31 22:30",
        "公安机关办理刑事案件程序规定第一百二十九条第二款",
        id="流窜作案 extended to 30 days: 2026-03-31 22:30, GA-Proc 129(2)",
    ),
    pytest.param(
        [
            DETAINED,
            f("DETENTION_EXTENDED", "2026-03-03 10:00", "COUNTY_POLICE", category="多次作案"),
        ],
        "2026-03-31 22:30",
        "刑事诉讼法第九十一条第二款",
        id="the category may be given in Chinese (多次作案), CPL 91(2)",
    ),
    pytest.param(
        [
            DETAINED,
            f("DETENTION_EXTENDED", "2026-03-03 10:00", "COUNTY_POLICE", days=4),
            f("DETENTION_EXTENDED", "2026-03-07 10:00", "COUNTY_POLICE", category="结伙"),
        ],
        "2026-03-31 22:30",
        "刑事诉讼法第九十一条第二款",
        id="7 days, then 结伙作案 up to 30 in total: 2026-03-31 22:30",
    ),
    pytest.param(
        [f("DETENTION_EXECUTED", "2026-03-01 22:30", self_investigation=True)],
        "2026-03-15 22:30",
        "刑事诉讼法第一百六十七条",
        id="procuratorate's own case: decide on arrest within 14 days, CPL 167",
    ),
    pytest.param(
        [
            f("DETENTION_EXECUTED", "2026-03-01 22:30", self_investigation=True),
            f("DETENTION_EXTENDED", "2026-03-12 10:00", "PROCURATORATE", days=3),
        ],
        "2026-03-18 22:30",
        "刑事诉讼法第一百六十七条",
        id="procuratorate's own case +3 days, 17 in total, CPL 167",
    ),
]


@pytest.mark.parametrize(("facts", "expires", "article"), HOUR_CASES)
def test_criminal_detention_expires_at_the_exact_hour(
    facts: list[LegalFact], expires: str, article: str
) -> None:
    result = clocks(CRIMINAL, facts)["CRIMINAL_DETENTION"]
    assert result.precision == "hour"
    assert result.expires_at == at(expires)
    assert result.governs_custody is True
    assert article in result.article


# --- notices ------------------------------------------------------------------------------------


def test_thirty_day_detention_is_noticed_three_days_before_it_ends() -> None:
    """GA-Custody-Term Art.27: notify the case unit 3 days before a 30-day 拘留 ends."""
    facts = [DETAINED, f("DETENTION_EXTENDED", "2026-03-03", "COUNTY_POLICE", category="ROVING")]
    result = clocks(CRIMINAL, facts)["CRIMINAL_DETENTION"]
    assert result.expires_at == at("2026-03-31 22:30")
    assert result.notice_at == at("2026-03-28 22:30")


def test_short_detention_notice_is_a_labelled_practice_setting() -> None:
    """A 3-day 拘留 has no statutory notice; the pack's practice setting gives 1 day."""
    result = clocks(CRIMINAL, [DETAINED])["CRIMINAL_DETENTION"]
    assert result.notice_at == at("2026-03-03 22:30")
    assert PACK.rules["CRIMINAL_DETENTION"].notice is not None
    assert PACK.rules["CRIMINAL_DETENTION"].notice.basis == "practice"


def test_investigative_custody_is_noticed_seven_days_before_it_ends() -> None:
    """GA-Custody-Term Art.27, SPP-Rules Art.615(2): the last 7 days (05-04 to 05-10)."""
    result = clocks(ARRESTED, [ARREST])["INVESTIGATION"]
    assert result.expires_at == end_of("2026-05-10")
    assert result.notice_at == at("2026-05-04")
    assert PACK.rules["INVESTIGATION"].notice is not None
    assert PACK.rules["INVESTIGATION"].notice.basis == "law"


def test_a_changed_pack_moves_the_notice() -> None:
    """A province may publish a pack with a longer lead time for investigation notices."""

    def ten_days(content: dict[str, Any]) -> None:
        content["rules"]["INVESTIGATION"]["notice"]["before"] = {"days": 10}

    result = clocks(ARRESTED, [ARREST], pack_with(ten_days))["INVESTIGATION"]
    assert result.notice_at == at("2026-05-01")


def test_no_notice_for_a_clock_that_is_not_running() -> None:
    facts = [ARREST, f("EVALUATION_STARTED", "2026-04-01", kind="PSYCHIATRIC")]
    result = clocks(ARRESTED, facts)["INVESTIGATION"]
    assert result.notice_at is None
    assert clocks(ARRESTED, [ARREST, TRANSFER])["INVESTIGATION"].notice_at is None


# --- flags ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "last_day", "flag"),
    [
        pytest.param(
            [f("ARREST_EXECUTED", "2024-02-29 10:00")],
            "2024-04-29",
            "COURT_MONTH_END_DIFFERS:2024-04-30",
            id="arrest 2024-02-29: police 04-29, court 04-30",
        ),
        pytest.param(
            [
                f("ARREST_EXECUTED", "2024-02-29 10:00"),
                f("INVESTIGATION_EXTENDED", "2024-04-10", "UPPER_PROCURATORATE", step="1"),
            ],
            "2024-05-29",
            "COURT_MONTH_END_DIFFERS:2024-05-31",
            id="arrest 2024-02-29 + 3 months: police 05-29, court 05-31",
        ),
        pytest.param(
            [
                f("ARREST_EXECUTED", "2023-12-31 10:00"),
                f("INVESTIGATION_EXTENDED", "2024-02-20", "UPPER_PROCURATORATE", step="1"),
            ],
            "2024-03-29",
            "COURT_MONTH_END_DIFFERS:2024-03-31",
            id="2023-12-31 + 2 months lands on 02-29; + 1 month: police 03-29, court 03-31",
        ),
    ],
)
def test_investigation_uses_the_earlier_police_date_and_flags_the_court_date(
    facts: list[LegalFact], last_day: str, flag: str
) -> None:
    """LAW.md §1.1: the police rule governs investigation; the court date is shown as a flag."""
    result = clocks(ARRESTED, facts)["INVESTIGATION"]
    assert result.expires_at == end_of(last_day)
    assert flag in result.flags


def test_no_court_flag_where_both_rules_agree() -> None:
    """2024-01-31 + 2 months is 03-31 under both rules (the 31st is a month end in both)."""
    assert clocks(ARRESTED, [f("ARREST_EXECUTED", "2024-01-31")])["INVESTIGATION"].flags == ()


def test_deadline_ending_on_a_holiday_does_not_move_but_is_flagged() -> None:
    """CPL Art.105(4): custody ends on 2026-10-01 (National Day) and is not extended."""
    result = clocks(ARRESTED, [TRIAL])["FIRST_INSTANCE"]
    assert result.expires_at == end_of("2026-10-01")
    assert "ENDS_ON_HOLIDAY" in result.flags


def test_hour_deadline_on_a_holiday_is_flagged_too() -> None:
    result = clocks(CRIMINAL, [f("DETENTION_EXECUTED", "2026-09-28 08:00")])["CRIMINAL_DETENTION"]
    assert result.expires_at == at("2026-10-01 08:00")
    assert "ENDS_ON_HOLIDAY" in result.flags


def test_immigration_term_ending_on_labour_day_is_flagged() -> None:
    result = clocks(IMMIGRATION, [f("IMMIGRATION_DETENTION", "2026-04-01")])
    assert result["IMMIGRATION_DETENTION"].flags == ("ENDS_ON_HOLIDAY",)


# --- suspensions and restarts -------------------------------------------------------------------


def test_psychiatric_evaluation_suspends_and_resumes_with_the_exact_new_expiry() -> None:
    """CPL Art.149; GA-Proc Art.257: 04-01 to 04-21 is 20 days not counted; 05-10 → 05-30."""
    started = [ARREST, f("EVALUATION_STARTED", "2026-04-01 10:00", kind="PSYCHIATRIC")]
    during = clocks(ARRESTED, started)["INVESTIGATION"]
    assert (during.state, during.expires_at) == ("SUSPENDED", None)
    assert during.inputs["suspended_since"] == "2026-04-01"
    after = clocks(ARRESTED, [*started, f("EVALUATION_ENDED", "2026-04-21 10:00")])["INVESTIGATION"]
    assert (after.state, after.expires_at) == ("RUNNING", end_of("2026-05-30"))
    assert after.inputs["suspended_days"] == 20
    assert [s.fact_kind for s in after.history] == [
        "ARREST_EXECUTED",
        "EVALUATION_STARTED",
        "EVALUATION_ENDED",
    ]
    assert "20日不计入" in after.history[-1].note


def test_the_end_day_convention_is_a_pack_setting() -> None:
    """LAW.md gap 7: with both end days suspended, 04-01 to 04-21 is 21 days → 05-31."""

    def neither(content: dict[str, Any]) -> None:
        content["suspensions"]["PSYCHIATRIC_EVALUATION"]["end_day"] = "NEITHER_DAY_RUNS"

    facts = [
        ARREST,
        f("EVALUATION_STARTED", "2026-04-01", kind="PSYCHIATRIC"),
        f("EVALUATION_ENDED", "2026-04-21"),
    ]
    result = clocks(ARRESTED, facts, pack_with(neither))["INVESTIGATION"]
    assert result.expires_at == end_of("2026-05-31")
    assert PACK.suspensions["PSYCHIATRIC_EVALUATION"].end_day_basis == "practice"


def test_a_non_psychiatric_evaluation_does_not_suspend() -> None:
    """GA-Proc Art.257: 其他鉴定时间都应当计入办案期限."""
    facts = [ARREST, f("EVALUATION_STARTED", "2026-04-01", kind="TOXICOLOGY")]
    result = clocks(ARRESTED, facts)["INVESTIGATION"]
    assert (result.state, result.expires_at) == ("RUNNING", end_of("2026-05-10"))


def test_identity_unknown_suspends_investigation_until_established() -> None:
    """CPL Art.160(2): 侦查羁押期限自查清其身份之日起计算."""
    facts = [f("IDENTITY_UNKNOWN", "2026-03-02"), ARREST]
    result = clocks(ARRESTED, facts)["INVESTIGATION"]
    assert (result.state, result.expires_at, result.notice_at) == ("SUSPENDED", None, None)
    assert result.inputs["waiting_for"] == "IDENTITY"


def test_identity_unknown_after_arrest_restarts_from_identification() -> None:
    facts = [
        ARREST,
        f("IDENTITY_UNKNOWN", "2026-03-12"),
        f("IDENTITY_ESTABLISHED", "2026-03-20 15:00"),
    ]
    result = clocks(ARRESTED, facts)["INVESTIGATION"]
    assert result.expires_at == end_of("2026-05-20")
    assert result.started_at == at("2026-03-20 15:00")


def test_new_crime_restarts_the_term_and_allows_extensions_again() -> None:
    """CPL Art.160(1); GA-Proc Art.151: a new 2 months from discovery, CPL 156 regime again."""
    facts = [
        ARREST,
        STEP1,
        f("NEW_CRIME_DISCOVERED", "2026-05-20", "COUNTY_POLICE", discovered_on="2026-05-18"),
        f("INVESTIGATION_EXTENDED", "2026-07-10", "UPPER_PROCURATORATE", step="1"),
    ]
    result = clocks(ARRESTED, facts)["INVESTIGATION"]
    assert result.started_at == at("2026-05-18")
    assert result.expires_at == end_of("2026-08-18")
    assert result.inputs["start"] == "2026-05-18"
    assert [e["by"] for e in result.inputs["extensions"]] == ["1"]
    check(person(), facts[:3], facts[3], PACK)


def test_npc_special_extension_leaves_no_computed_expiry() -> None:
    """CPL Art.157: the NPC Standing Committee approves; the term is not computed."""
    facts = [ARREST, f("INVESTIGATION_EXTENDED", "2026-05-01", "NPC_STANDING", step="SPECIAL")]
    result = clocks(ARRESTED, facts)["INVESTIGATION"]
    assert (result.state, result.expires_at) == ("RUNNING", None)
    assert "NO_COMPUTED_EXPIRY:SPECIAL" in result.flags
    assert "刑事诉讼法第一百五十七条" in result.article


def test_returned_case_suspends_review_until_retransferred() -> None:
    result = clocks(ARRESTED, [ARREST, TRANSFER, RETURN1])
    assert result["PROSECUTION_REVIEW"].state == "SUSPENDED"
    assert result["PROSECUTION_REVIEW"].expires_at is None
    assert result["SUPPLEMENTARY_INVESTIGATION"].governs_custody is True


def test_trial_postponement_suspends_the_trial_term() -> None:
    result = clocks(ARRESTED, [TRIAL, f("TRIAL_POSTPONED", "2026-08-01")])
    assert (result["FIRST_INSTANCE"].state, result["FIRST_INSTANCE"].expires_at) == (
        "SUSPENDED",
        None,
    )


def test_first_instance_reports_the_two_month_target_inside_the_three_month_limit() -> None:
    """CPL Art.208(1): 二个月以内宣判，至迟不得超过三个月."""
    result = clocks(ARRESTED, [TRIAL])["FIRST_INSTANCE"]
    assert result.inputs["target_last_day"] == "2026-09-01"


# --- judgments, release, delivery ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kind_params",
    [
        pytest.param(
            ("FIRST_JUDGMENT", {"penalty": "ACQUITTED"}), id="acquitted at first instance"
        ),
        pytest.param(("JUDGMENT_EFFECTIVE", {"penalty": "EXEMPT"}), id="exempted from punishment"),
        pytest.param(("JUDGMENT_EFFECTIVE", {"penalty": "PROBATION"}), id="probation"),
    ],
)
def test_acquittal_exemption_or_probation_require_release_at_once(
    kind_params: tuple[str, dict[str, Any]],
) -> None:
    """CPL Art.260; SPP-Rules Art.626: released immediately after pronouncement."""
    kind, params = kind_params
    facts = [TRIAL, f(kind, "2026-09-10 10:00", **params)]
    release = clocks(ARRESTED, facts)["RELEASE"]
    assert release.expires_at == at("2026-09-10 10:00")
    assert (release.state, release.governs_custody, release.precision) == ("RUNNING", True, "hour")
    assert "刑事诉讼法第二百六十条" in release.article


def test_arrest_not_approved_requires_release_at_once() -> None:
    """CPL Art.91(3): 不批准逮捕的，公安机关应当在接到通知后立即释放."""
    facts = [
        DETAINED,
        f("ARREST_REQUESTED", "2026-03-03"),
        f("ARREST_NOT_APPROVED", "2026-03-08 09:00"),
    ]
    result = clocks(CRIMINAL, facts)
    assert result["RELEASE"].expires_at == at("2026-03-08 09:00")
    assert result["ARREST_REVIEW"].state == "ENDED"
    assert "刑事诉讼法第九十一条第三款" in result["RELEASE"].article


def test_judgment_effective_ends_the_trial_clocks_and_starts_the_sentence() -> None:
    facts = [
        TRIAL,
        JUDGED,
        f("JUDGMENT_EFFECTIVE", "2026-09-23", penalty="FIXED_TERM", term_years=2),
    ]
    result = clocks(ARRESTED, facts, admitted="2026-01-05")
    assert result["FIRST_INSTANCE"].state == "ENDED"
    assert result["APPEAL_PERIOD"].state == "ENDED"
    assert result["SENTENCE"].expires_at == end_of("2028-01-04")
    assert result["SENTENCE"].inputs["credit_source"] == "admitted_at"


def test_short_remaining_term_is_executed_in_the_detention_centre() -> None:
    """CPL Art.264(2): remaining term ≤ 3 months at delivery → 看守所代为执行, no delivery clock."""
    facts = [
        f(
            "JUDGMENT_EFFECTIVE",
            "2026-02-20",
            penalty="FIXED_TERM",
            term_years=1,
            custody_credit_from="2025-06-01",
        ),
        f("EXECUTION_NOTICE_RECEIVED", "2026-03-05"),
    ]
    result = clocks(ARRESTED, facts)
    assert "DELIVERY_TO_PRISON" not in result
    assert "KEEP_IN_CENTRE" in result["SENTENCE"].flags
    kept = f("KEPT_TO_SERVE", "2026-03-06")
    check(person(), facts, kept, PACK)
    assert stage_after(person(), [*facts, kept]) == "50"


def test_delivery_clock_does_not_govern_custody() -> None:
    facts = [
        f("JUDGMENT_EFFECTIVE", "2026-02-01", penalty="LIFE"),
        f("EXECUTION_NOTICE_RECEIVED", "2026-03-01"),
    ]
    result = clocks(ARRESTED, facts)
    assert "SENTENCE" not in result
    assert result["DELIVERY_TO_PRISON"].governs_custody is False
    assert result["DELIVERY_TO_PRISON"].expires_at == end_of("2026-04-01")


def test_appeal_period_does_not_govern_custody() -> None:
    assert clocks(ARRESTED, [TRIAL, JUDGED])["APPEAL_PERIOD"].governs_custody is False


def test_released_ends_every_clock() -> None:
    facts = [ARREST, TRANSFER, f("RELEASED", "2026-05-10 09:00")]
    result = clocks(ARRESTED, facts)
    assert {c.state for c in result.values()} == {"ENDED"}
    assert all(c.notice_at is None for c in result.values())


# --- administrative detention, drug rehabilitation, immigration -------------------------------------


def test_admin_combination_over_twenty_days_is_capped_and_flagged() -> None:
    """PSAPL (2012) Art.16: 合并执行的，最长不超过二十日 — a recorded 12 + 10 is held to 20."""
    facts = [
        f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days=12),
        f("ADMIN_DETENTION_EXECUTED", "2026-05-03 08:00", days=10),
    ]
    result = clocks(ADMIN, facts)["ADMIN_DETENTION"]
    assert result.expires_at == end_of("2026-05-21")
    assert "ADMIN_COMBINED_CAPPED:22" in result.flags
    assert result.inputs["decided_days"] == 22


def test_a_province_may_count_admin_detention_to_the_hour() -> None:
    """JLS-Reg Art.32 counts whole days (last day 05-11); a pack may instead release at the
    hour of admission on that day, as some facilities do."""

    def hours(content: dict[str, Any]) -> None:
        content["rules"]["ADMIN_DETENTION"]["counting"] = "HOURS"

    facts = [f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days=10)]
    result = clocks(ADMIN, facts, pack_with(hours))["ADMIN_DETENTION"]
    assert (result.expires_at, result.precision) == (at("2026-05-11 08:00"), "hour")


def test_leave_in_progress_suspends_admin_detention() -> None:
    facts = [
        f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days=10),
        f("LEAVE_STARTED", "2026-05-03"),
    ]
    result = clocks(ADMIN, facts)["ADMIN_DETENTION"]
    assert (result.state, result.expires_at) == ("SUSPENDED", None)


def test_drug_rehab_police_stage_reports_the_earliest_transfer() -> None:
    """Rehab Art.27(2): 3–6 months in the police facility; the clock does not govern custody."""
    stage = clocks(REHAB, [f("DRUG_REHAB_DECIDED", "2026-02-28", executed_on="2026-03-02")])[
        "DRUG_REHAB_POLICE_STAGE"
    ]
    assert stage.inputs["earliest_transfer"] == "2026-06-02"
    assert stage.governs_custody is False


def test_drug_rehab_police_stage_defaults_to_admission() -> None:
    result = clocks(REHAB, [f("DRUG_REHAB_DECIDED", "2026-02-28")], admitted="2026-03-05")
    assert result["DRUG_REHAB_POLICE_STAGE"].expires_at == end_of("2026-09-04")


def test_drug_rehab_early_release_after_one_year() -> None:
    """Drug Art.47(2): after 1 year (from 2027-02-28) the deciding organ may release early."""
    facts = [f("DRUG_REHAB_DECIDED", "2026-02-28 10:00")]
    early = f("DRUG_REHAB_EARLY_RELEASE", "2027-02-28 10:00", "DECIDING_ORGAN")
    check(person(REHAB), facts, early, PACK)
    result = clocks(REHAB, [*facts, early])
    assert result["RELEASE"].expires_at == at("2027-02-28 10:00")
    assert result["DRUG_REHAB"].state == "ENDED"
    assert "禁毒法第四十七条第二款" in result["RELEASE"].article


# --- refusals ---------------------------------------------------------------------------------

REFUSALS = [
    # (measure, record, new fact, reason fragment, article fragment)
    pytest.param(
        ARRESTED,
        [ARREST],
        f("INVESTIGATION_EXTENDED", "2026-05-11 08:00", "UPPER_PROCURATORATE", step="1"),
        "晚于原期限届满（2026年5月10日）",
        "人民检察院刑事诉讼规则第三百零九条",
        id="extension decided after the term expired, SPP-Rules 309",
    ),
    pytest.param(
        ARRESTED,
        [ARREST],
        f(
            "INVESTIGATION_EXTENDED",
            "2026-05-08",
            "UPPER_PROCURATORATE",
            step="1",
            requested_on="2026-05-05",
        ),
        "最迟应于2026年5月3日提请",
        "公安机关办理刑事案件程序规定第一百四十八条",
        id="extension requested less than 7 days before expiry, GA-Proc 148",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, STEP1],
        f("INVESTIGATION_EXTENDED", "2026-06-01", "UPPER_PROCURATORATE", step="2", category="WIDE"),
        "须经省级人民检察院批准，登记的批准机关为上一级人民检察院",
        "刑事诉讼法第一百五十八条",
        id="second extension approved by the upper instead of the provincial procuratorate, CPL 158",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, STEP1],
        f("INVESTIGATION_EXTENDED", "2026-06-01", "PROVINCIAL_PROCURATORATE", step="2"),
        "须注明属于下列情形之一",
        "刑事诉讼法第一百五十八条",
        id="second extension without one of the four CPL 158 categories",
    ),
    pytest.param(
        ARRESTED,
        [ARREST],
        f(
            "INVESTIGATION_EXTENDED",
            "2026-05-01",
            "PROVINCIAL_PROCURATORATE",
            step="2",
            category="WIDE",
        ),
        "须在“案情复杂延长一个月”之后",
        "刑事诉讼法第一百五十八条",
        id="second extension before the first, CPL 158",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, STEP1],
        f("INVESTIGATION_EXTENDED", "2026-06-01", "UPPER_PROCURATORATE", step="1"),
        "以1次为限",
        "刑事诉讼法第一百五十六条",
        id="first extension granted twice, CPL 156",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, STEP1, STEP2],
        f("INVESTIGATION_EXTENDED", "2026-08-01", "PROVINCIAL_PROCURATORATE", step="3"),
        "possible_sentence_10y",
        "刑事诉讼法第一百五十九条",
        id="third extension without a possible sentence of 10 years, CPL 159",
    ),
    pytest.param(
        ARRESTED,
        [DETAINED],
        f("INVESTIGATION_EXTENDED", "2026-03-03", "UPPER_PROCURATORATE", step="1"),
        "没有执行逮捕后的侦查羁押期限",
        "刑事诉讼法第一百五十六条",
        id="investigative extension with no arrest executed",
    ),
    pytest.param(
        ARRESTED,
        [ARREST],
        f("INVESTIGATION_EXTENDED", "2026-05-01", "UPPER_PROCURATORATE"),
        "须注明第几次延长",
        "刑事诉讼法第一百五十六条",
        id="investigative extension without its step",
    ),
    pytest.param(
        ARRESTED,
        [ARREST],
        f("NEW_CRIME_DISCOVERED", "2026-04-01"),
        "须经县级以上公安机关负责人批准",
        "公安机关办理刑事案件程序规定第一百五十一条",
        id="recalculation for a new crime without approval, GA-Proc 151",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, TRANSFER, RETURN1, RETRANSFER1, RETURN2, RETRANSFER2],
        f("RETURNED_FOR_SUPPLEMENT", "2026-08-01"),
        "补充侦查以2次为限，已经退回2次",
        "刑事诉讼法第一百七十五条第三款",
        id="third return for supplementary investigation, CPL 175(3)",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, TRANSFER],
        f("RETRANSFERRED", "2026-05-20"),
        "没有退回补充侦查的案件",
        "刑事诉讼法第一百七十二条",
        id="re-transfer with no return",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, TRANSFER, RETURN1],
        f("PROSECUTED", "2026-06-01"),
        "尚未重新移送审查起诉",
        "刑事诉讼法第一百七十二条",
        id="prosecution while the case is back with the police",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, TRANSFER, f("PROSECUTION_EXTENDED", "2026-06-01", "PROCURATORATE")],
        f("PROSECUTION_EXTENDED", "2026-06-10", "PROCURATORATE"),
        "以1次为限",
        "刑事诉讼法第一百七十二条第一款",
        id="review extended twice, CPL 172",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, f("TRANSFERRED_FOR_PROSECUTION", "2026-05-05", fast_track=True)],
        f("PROSECUTION_EXTENDED", "2026-05-10", "PROCURATORATE"),
        "不适用",
        "刑事诉讼法第一百七十二条第一款",
        id="fast-track review cannot take the 15-day extension, CPL 172",
    ),
    pytest.param(
        ARRESTED,
        [
            TRIAL,
            f("TRIAL_POSTPONED", "2026-07-10"),
            f("TRIAL_RESUMED", "2026-07-20"),
            f("TRIAL_POSTPONED", "2026-08-10"),
            f("TRIAL_RESUMED", "2026-08-20"),
        ],
        f("TRIAL_POSTPONED", "2026-09-10"),
        "不得超过2次，已经延期审理2次",
        "第二百七十四条",
        id="third postponement for supplementary investigation, SPC-Interp 274",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, f("FIRST_INSTANCE_EXTENDED", "2026-09-01", "UPPER_COURT")],
        f("FIRST_INSTANCE_EXTENDED", "2026-12-01", "UPPER_COURT"),
        "以1次为限，已经批准1次",
        "第二百一十条第一款",
        id="second first-instance extension by the upper court, SPC-Interp 210",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL],
        f("FIRST_INSTANCE_EXTENDED", "2026-09-01", "SUPREME_COURT", months=2),
        "须在“经上一级人民法院批准延长三个月”之后",
        "第二百一十条第三款",
        id="supreme court extension before the upper court's, SPC-Interp 210",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, f("FIRST_INSTANCE_EXTENDED", "2026-09-01", "UPPER_COURT")],
        f("FIRST_INSTANCE_EXTENDED", "2026-12-01", "SUPREME_COURT", months=4),
        "可延长1至3个月，登记的是4个月",
        "第二百一十条第三款",
        id="supreme court extension longer than 3 months, SPC-Interp 210(3)",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL],
        f("FIRST_INSTANCE_EXTENDED", "2026-09-01", "COURT"),
        "须经上一级人民法院或最高人民法院批准",
        "刑事诉讼法第二百零八条第一款",
        id="first-instance extension by the trial court itself, CPL 208",
    ),
    pytest.param(
        ARRESTED,
        [f("PROSECUTED", "2026-07-01", procedure="SIMPLIFIED")],
        f("FIRST_INSTANCE_EXTENDED", "2026-07-15", "UPPER_COURT"),
        "不适用",
        "刑事诉讼法第二百零八条第一款",
        id="simplified procedure cannot be extended, CPL 220",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL],
        f("FIRST_INSTANCE_EXTENDED", "2026-10-02 09:00", "UPPER_COURT"),
        "晚于原期限届满（2026年10月1日）",
        "第二百一十条",
        id="first-instance extension after the term expired",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL],
        f("PROCEDURE_CONVERTED", "2026-07-10", procedure="SIMPLIFIED"),
        "普通程序不能转为简易程序",
        "第三百七十六条",
        id="ordinary procedure cannot turn into simplified, SPC-Interp 368/376",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, JUDGED, APPEAL, f("SECOND_INSTANCE_EXTENDED", "2026-12-01", "HIGH_COURT")],
        f("SECOND_INSTANCE_EXTENDED", "2027-02-01", "HIGH_COURT"),
        "以1次为限",
        "刑事诉讼法第二百四十三条",
        id="second high-court extension of the appeal, CPL 243",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL],
        f("JUDGMENT_EFFECTIVE", "2026-08-01", penalty="FIXED_TERM", term_years=1),
        "一审尚未宣判",
        "刑事诉讼法第二百三十条",
        id="judgment effective before it was pronounced",
    ),
    pytest.param(
        ARRESTED,
        [TRIAL, JUDGED],
        f("JUDGMENT_EFFECTIVE", "2026-09-23", penalty="FIXED_TERM"),
        "须登记刑期",
        "第二百零二条第二款",
        id="a fixed term without its length",
    ),
    pytest.param(
        ARRESTED,
        [
            f(
                "JUDGMENT_EFFECTIVE",
                "2026-02-01",
                penalty="FIXED_TERM",
                term_years=3,
                custody_credit_from="2025-06-01",
            )
        ],
        f("KEPT_TO_SERVE", "2026-03-01"),
        "剩余刑期超过3个月，应当送交监狱执行",
        "刑事诉讼法第二百六十四条第二款",
        id="kept in the centre with more than 3 months to serve, CPL 264(2)",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED],
        f("DETENTION_EXTENDED", "2026-03-04 22:30", "COUNTY_POLICE", days=4),
        "晚于原期限届满（2026年3月4日22时30分）",
        "公安机关办理刑事案件程序规定第一百二十九条第一款",
        id="detention extended at the moment it expired, GA-Proc 129",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED],
        f("DETENTION_EXTENDED", "2026-03-03", "COUNTY_POLICE", days=5),
        "延长后拘留期限将达8日；未注明流窜作案、多次作案或者结伙作案，提请批准逮捕的时间最长为7日",
        "公安机关办理刑事案件程序规定第一百二十九条第一款",
        id="detention extended by 5 days without a category, GA-Proc 129",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED],
        f("DETENTION_EXTENDED", "2026-03-03", "COUNTY_POLICE", days=0),
        "可延长1至4日，登记的是0日",
        "公安机关办理刑事案件程序规定第一百二十九条第一款",
        id="detention extended by 0 days, GA-Proc 129(1)",
    ),
    pytest.param(
        ARRESTED,
        [ARREST],
        f("ARREST_EXECUTED", "2026-03-12"),
        "已经执行逮捕",
        "刑事诉讼法第一百五十六条",
        id="a second arrest during investigation",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED],
        f("DETENTION_EXTENDED", "2026-03-03", "COUNTY_POLICE", days=27),
        "未注明流窜作案、多次作案或者结伙作案",
        "公安机关办理刑事案件程序规定第一百二十九条第二款",
        id="detention extended to 30 days without 流窜/多次/结伙, GA-Proc 129(2)",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED, f("DETENTION_EXTENDED", "2026-03-03", "COUNTY_POLICE", category="GANG")],
        f("DETENTION_EXTENDED", "2026-03-20", "COUNTY_POLICE", category="GANG", days=1),
        "已达到“流窜作案、多次作案、结伙作案的重大嫌疑分子延长至三十日”的上限30日",
        "公安机关办理刑事案件程序规定第一百二十九条第二款",
        id="detention extended beyond 30 days in total, GA-Proc 129(2)",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED],
        f("DETENTION_EXTENDED", "2026-03-03", "COUNTY_POLICE", category="盗窃"),
        "须注明属于下列情形之一：流窜作案、多次作案、结伙作案",
        "公安机关办理刑事案件程序规定第一百二十九条第二款",
        id="a category that is not 流窜/多次/结伙",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED],
        f("DETENTION_EXTENDED", "2026-03-03", "PROCURATORATE", days=4),
        "须经县级以上公安机关负责人批准，登记的批准机关为人民检察院",
        "公安机关办理刑事案件程序规定第一百二十九条第一款",
        id="detention extended by the wrong authority, GA-Proc 129",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED],
        f("ARREST_REQUESTED", "2026-03-05 09:00"),
        "晚于原期限届满（2026年3月4日22时30分）",
        "刑事诉讼法第九十一条第一款",
        id="arrest requested after the detention term, CPL 91",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED],
        f("ARREST_NOT_APPROVED", "2026-03-03"),
        "没有提请批准逮捕",
        "刑事诉讼法第九十一条第三款",
        id="arrest not approved without a request",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED],
        f("DETENTION_EXECUTED", "2026-03-02"),
        "已经执行刑事拘留",
        "刑事诉讼法第九十一条第一款",
        id="a second detention in the same stay",
    ),
    pytest.param(
        ARRESTED,
        [],
        f("ADMIN_DETENTION_EXECUTED", "2026-05-01", days=10),
        "法律措施为逮捕，不能登记“执行行政拘留”",
        "拘留所条例第三十二条",
        id="administrative detention for a person under arrest",
    ),
    pytest.param(
        ADMIN,
        [],
        f("DETENTION_EXECUTED", "2026-05-01"),
        "法律措施为行政拘留，不能登记“执行刑事拘留”",
        "刑事诉讼法第九十一条第一款",
        id="criminal detention for a person under administrative detention",
    ),
    pytest.param(
        ARRESTED,
        [ARREST],
        f("EVALUATION_ENDED", "2026-04-01"),
        "没有登记决定鉴定",
        "刑事诉讼法第一百四十九条",
        id="evaluation ended without being started, CPL 149",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, f("EVALUATION_STARTED", "2026-04-01", kind="PSYCHIATRIC")],
        f("EVALUATION_STARTED", "2026-04-02", kind="PSYCHIATRIC"),
        "尚未结束",
        "刑事诉讼法第一百四十九条",
        id="a second evaluation while one is open",
    ),
    pytest.param(
        ARRESTED,
        [ARREST],
        f("IDENTITY_ESTABLISHED", "2026-04-01"),
        "没有登记身份不明",
        "刑事诉讼法第一百六十条第二款",
        id="identity established without being unknown, CPL 160(2)",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, f("RELEASED", "2026-04-01 10:00")],
        f("INVESTIGATION_EXTENDED", "2026-04-20", "UPPER_PROCURATORATE", step="1"),
        "2026年4月1日已释放，本次羁押已经结束",
        "本次羁押已因释放",
        id="anything after release",
    ),
    pytest.param(
        ARRESTED,
        [ARREST, f("TRANSFERRED_OUT", "2026-04-01 10:00")],
        f("RELEASED", "2026-04-02"),
        "已转出",
        "本次羁押已因释放",
        id="release after transfer out",
    ),
    pytest.param(
        ADMIN,
        [f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days=12)],
        f("ADMIN_DETENTION_EXECUTED", "2026-05-03 08:00", days=10),
        "共12日，加上本决定10日为22日",
        "治安管理处罚法（2012年修正）第十六条",
        id="administrative detention combined over 20 days, PSAPL 16",
    ),
    pytest.param(
        ADMIN,
        [],
        f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days=16),
        "最长十五日，登记的是16日",
        "治安管理处罚法",
        id="one administrative detention longer than 15 days",
    ),
    pytest.param(
        ADMIN,
        [],
        f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00"),
        "须登记拘留日数",
        "拘留所条例第三十二条",
        id="administrative detention without its days",
    ),
    pytest.param(
        ADMIN,
        [],
        f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days="十"),
        "应为不小于0的整数",
        "拘留所条例第三十二条",
        id="days given as text",
    ),
    pytest.param(
        JUDICIAL,
        [],
        f("JUDICIAL_DETENTION_EXECUTED", "2026-06-01", days=16),
        "司法拘留最长十五日",
        "民事诉讼法",
        id="judicial detention over 15 days (practice setting)",
    ),
    pytest.param(
        ADMIN,
        [f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days=10)],
        f("LEAVE_ENDED", "2026-05-03"),
        "没有登记请假出所",
        "拘留所条例第二十七条",
        id="back from leave without leaving",
    ),
    pytest.param(
        REHAB,
        [f("DRUG_REHAB_DECIDED", "2026-02-28 10:00")],
        f("DRUG_REHAB_EARLY_RELEASE", "2027-02-27 10:00", "DECIDING_ORGAN"),
        "至2027年2月27日方满1年",
        "禁毒法第四十七条第二款",
        id="early release before one year, Drug 47(2)",
    ),
    pytest.param(
        REHAB,
        [
            f("DRUG_REHAB_DECIDED", "2026-02-28 10:00"),
            f("DRUG_REHAB_EXTENDED", "2027-12-01", "DECIDING_ORGAN", months=8),
        ],
        f("DRUG_REHAB_EXTENDED", "2028-06-01", "DECIDING_ORGAN", months=6),
        "可延长1至4个月，登记的是6个月",
        "禁毒法第四十七条第三款",
        id="drug rehab extended beyond one year in total, Drug 47(3)",
    ),
    pytest.param(
        REHAB,
        [f("DRUG_REHAB_DECIDED", "2026-02-28 10:00")],
        f("DRUG_REHAB_EXTENDED", "2027-12-01", "DECIDING_ORGAN", months=13),
        "可延长1至12个月",
        "禁毒法第四十七条第三款",
        id="drug rehab extended by 13 months at once, Drug 47(3)",
    ),
    pytest.param(
        REHAB,
        [f("DRUG_REHAB_DECIDED", "2026-02-28 10:00")],
        f("DRUG_REHAB_EXTENDED", "2028-02-28 10:00", "DECIDING_ORGAN", months=6),
        "晚于原期限届满（2028年2月27日）",
        "禁毒法第四十七条第三款",
        id="drug rehab extended after it ended, Drug 47(3) 期满前",
    ),
    pytest.param(
        IMMIGRATION,
        [f("IMMIGRATION_DETENTION", "2026-04-01 10:00")],
        f("IMMIGRATION_EXTENDED", "2026-04-25", "UPPER_POLICE", days=31),
        "可延长1至30日，登记的是31日",
        "出境入境管理法第六十条",
        id="immigration detention beyond 60 days, Exit-Entry 60",
    ),
    pytest.param(
        IMMIGRATION,
        [
            f("IMMIGRATION_DETENTION", "2026-04-01 10:00"),
            f("IMMIGRATION_EXTENDED", "2026-04-25", "UPPER_POLICE"),
        ],
        f("IMMIGRATION_EXTENDED", "2026-05-20", "UPPER_POLICE", days=1),
        "已达到“案情复杂经上一级机关批准延长至六十日”的上限60日",
        "出境入境管理法第六十条",
        id="immigration detention already at 60 days",
    ),
    pytest.param(
        IMMIGRATION,
        [f("IMMIGRATION_DETENTION", "2026-04-01 10:00")],
        f("IMMIGRATION_EXTENDED", "2026-04-25", "COUNTY_POLICE"),
        "须经上一级地方人民政府公安机关或者出入境边防检查机关批准",
        "出境入境管理法第六十条",
        id="immigration extension by the wrong authority, Exit-Entry 60",
    ),
    pytest.param(
        ARRESTED,
        [ARREST],
        f("WEEKEND_LEAVE", "2026-04-01"),
        "未知的法律事实类型",
        "",
        id="an unknown kind of fact",
    ),
]


@pytest.mark.parametrize(("measure", "record", "new", "reason", "article"), REFUSALS)
def test_check_refuses_with_the_reason_and_article(
    measure: str, record: list[LegalFact], new: LegalFact, reason: str, article: str
) -> None:
    refused = refusal(measure, record, new)
    assert reason in refused.reason
    assert article in refused.article


def test_check_refuses_a_back_dated_fact_that_breaks_a_later_one() -> None:
    """A release dated before a recorded extension would leave that extension after release."""
    refused = refusal(ARRESTED, [ARREST, STEP1], f("RELEASED", "2026-04-01"))
    assert "登记后，2026年5月1日的“延长侦查羁押期限”将不再成立" in refused.reason


def test_check_refuses_a_duplicate_id() -> None:
    refused = refusal(ARRESTED, [ARREST], ARREST)
    assert "已经登记" in refused.reason


def test_check_refuses_a_naive_datetime() -> None:
    naive = LegalFact("x", "ARREST_EXECUTED", datetime(2026, 3, 10, 10, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="时区"):
        check(person(), [], naive, PACK)


ACCEPTED = [
    pytest.param(CRIMINAL, [], DETAINED, id="detention on admission"),
    pytest.param(
        CRIMINAL,
        [DETAINED],
        f("DETENTION_EXTENDED", "2026-03-04 22:29", "COUNTY_POLICE", days=4),
        id="detention extended a minute before it expires",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED, f("DETENTION_EXTENDED", "2026-03-03", "COUNTY_POLICE", days=4)],
        f("DETENTION_EXTENDED", "2026-03-07", "COUNTY_POLICE", category="流窜"),
        id="7 days, then 流窜作案 to 30",
    ),
    pytest.param(
        CRIMINAL,
        [DETAINED],
        f("ARREST_REQUESTED", "2026-03-04 22:00"),
        id="arrest requested in time",
    ),
    pytest.param(ARRESTED, [ARREST], STEP1, id="first investigative extension"),
    pytest.param(
        ARRESTED,
        [ARREST],
        f("INVESTIGATION_EXTENDED", "2026-05-10 23:59", "UPPER_PROCURATORATE", step="1"),
        id="extension decided on the last day",
    ),
    pytest.param(
        ARRESTED,
        [ARREST],
        f(
            "INVESTIGATION_EXTENDED",
            "2026-05-08",
            "UPPER_PROCURATORATE",
            step="1",
            requested_on="2026-05-03",
        ),
        id="extension requested exactly 7 days before the last day",
    ),
    pytest.param(ARRESTED, [ARREST, STEP1], STEP2, id="second extension with a category"),
    pytest.param(
        ARRESTED,
        [ARREST, STEP1],
        f(
            "INVESTIGATION_EXTENDED",
            "2026-06-01",
            "PROVINCIAL_PROCURATORATE",
            step="2",
            category="流窜作案",
        ),
        id="second extension with the category's Chinese name",
    ),
    pytest.param(ARRESTED, [ARREST, TRANSFER, RETURN1, RETRANSFER1], RETURN2, id="second return"),
    pytest.param(
        ARRESTED,
        [TRIAL, f("FIRST_INSTANCE_EXTENDED", "2026-09-01", "UPPER_COURT")],
        f("FIRST_INSTANCE_EXTENDED", "2026-12-01", "SUPREME_COURT", months=3),
        id="supreme court after the upper court",
    ),
    pytest.param(ARRESTED, [TRIAL, JUDGED], APPEAL, id="appeal after the first judgment"),
    pytest.param(
        ARRESTED,
        [TRIAL, JUDGED],
        f("JUDGMENT_EFFECTIVE", "2026-09-23", penalty="FIXED_TERM", term_years=2),
        id="judgment effective after the appeal period",
    ),
    pytest.param(
        ADMIN,
        [f("ADMIN_DETENTION_EXECUTED", "2026-05-01 08:00", days=12)],
        f("ADMIN_DETENTION_EXECUTED", "2026-05-03 08:00", days=8),
        id="administrative detention combined to exactly 20 days",
    ),
    pytest.param(
        IMMIGRATION,
        [
            f("IMMIGRATION_DETENTION", "2026-04-01 10:00"),
            f("IMMIGRATION_EXTENDED", "2026-04-25", "UPPER_POLICE", days=20),
        ],
        f("IMMIGRATION_EXTENDED", "2026-05-20", "UPPER_POLICE", days=10),
        id="immigration extended twice up to 60",
    ),
    pytest.param(ARRESTED, [ARREST], f("RELEASED", "2026-04-01"), id="release"),
    pytest.param(
        "99",
        [],
        f("ADMIN_DETENTION_EXECUTED", "2026-05-01", days=5),
        id="measure 99 accepts any track",
    ),
    pytest.param(
        ARRESTED, [], TRIAL, id="a person admitted at trial: the first fact may be mid-process"
    ),
]


@pytest.mark.parametrize(("measure", "record", "new"), ACCEPTED)
def test_check_accepts_facts_that_fit_the_record(
    measure: str, record: list[LegalFact], new: LegalFact
) -> None:
    check(person(measure), record, new, PACK)  # raises DeadlineRefused if refused


def test_converting_ordinary_to_ordinary_is_refused() -> None:
    refused = refusal(
        ARRESTED, [TRIAL], f("PROCEDURE_CONVERTED", "2026-07-05", procedure="ORDINARY")
    )
    assert "普通程序不能转为普通程序" in refused.reason


# --- stages ------------------------------------------------------------------------------------

STAGES = [
    pytest.param([], None, id="no facts: no stage"),
    pytest.param([DETAINED], "11", id="detained: 11 拘留期间侦查"),
    pytest.param(
        [DETAINED, f("ARREST_REQUESTED", "2026-03-03")], "11", id="arrest requested: still 11"
    ),
    pytest.param([DETAINED, ARREST], "12", id="arrested: 12 逮捕后侦查"),
    pytest.param([ARREST], "12", id="arrested without prior detention: 12"),
    pytest.param([ARREST, STEP1], "12", id="extended investigation: 12"),
    pytest.param([ARREST, TRANSFER], "20", id="transferred: 20 审查起诉"),
    pytest.param(
        [ARREST, TRANSFER, RETURN1], "20", id="returned for supplementary investigation: 20"
    ),
    pytest.param([ARREST, TRANSFER, TRIAL], "31", id="prosecuted: 31 一审"),
    pytest.param([TRIAL, JUDGED], "31", id="first judgment, appeal period running: 31"),
    pytest.param([TRIAL, JUDGED, APPEAL], "32", id="appeal accepted: 32 二审"),
    pytest.param([TRIAL, JUDGED, APPEAL, f("REMANDED", "2026-11-15")], "31", id="remanded: 31"),
    pytest.param(
        [TRIAL, f("ARREST_EXECUTED", "2026-07-05")], "31", id="arrest decided by the court keeps 31"
    ),
    pytest.param(
        [TRIAL, JUDGED, f("JUDGMENT_EFFECTIVE", "2026-09-23", penalty="FIXED_TERM", term_months=2)],
        "40",
        id="judgment effective: 40 已决待交付执行",
    ),
    pytest.param(
        [
            f(
                "JUDGMENT_EFFECTIVE",
                "2026-02-20",
                penalty="FIXED_TERM",
                term_years=1,
                custody_credit_from="2025-06-01",
            ),
            f("KEPT_TO_SERVE", "2026-03-06"),
        ],
        "50",
        id="kept to serve: 50 留所服刑",
    ),
    pytest.param(
        [f("ADMIN_DETENTION_EXECUTED", "2026-05-01", days=10)], "60", id="administrative: 60"
    ),
    pytest.param(
        [f("JUDICIAL_DETENTION_EXECUTED", "2026-05-01", days=10)], "61", id="judicial: 61"
    ),
    pytest.param([f("DRUG_REHAB_DECIDED", "2026-05-01")], "70", id="drug rehabilitation: 70"),
    pytest.param(
        [f("IMMIGRATION_DETENTION", "2026-05-01")], None, id="immigration: no litigation stage"
    ),
    pytest.param([ARREST, f("RELEASED", "2026-04-01")], "12", id="release keeps the last stage"),
]


@pytest.mark.parametrize(("facts", "stage"), STAGES)
def test_stage_after_each_path(facts: list[LegalFact], stage: str | None) -> None:
    assert stage_after(person(), facts) == stage


def test_stage_after_does_not_depend_on_the_order_given() -> None:
    facts = [DETAINED, ARREST, TRANSFER, RETURN1, RETRANSFER1, TRIAL, JUDGED, APPEAL]
    shuffled = facts[:]
    random.Random(7).shuffle(shuffled)
    assert stage_after(person(), shuffled) == "32"


# --- determinism and shape ---------------------------------------------------------------------

FULL_RECORD = [
    DETAINED,
    f("DETENTION_EXTENDED", "2026-03-03", "COUNTY_POLICE", days=4),
    f("ARREST_REQUESTED", "2026-03-06"),
    ARREST,
    f("EVALUATION_STARTED", "2026-03-20", kind="PSYCHIATRIC"),
    f("EVALUATION_ENDED", "2026-03-30"),
    STEP1,
    TRANSFER,
    RETURN1,
    RETRANSFER1,
    TRIAL,
    f("FIRST_INSTANCE_EXTENDED", "2026-09-01", "UPPER_COURT"),
    f("FIRST_JUDGMENT", "2026-12-10", received_on="2026-12-10"),
    f("APPEAL_ACCEPTED", "2026-12-25"),
    f("JUDGMENT_EFFECTIVE", "2027-02-10", penalty="FIXED_TERM", term_years=3),
    f("EXECUTION_NOTICE_RECEIVED", "2027-02-15"),
]


def test_compute_is_deterministic_whatever_the_order_of_facts() -> None:
    expected = compute(person(), FULL_RECORD, PACK)
    for seed in range(5):
        shuffled = FULL_RECORD[:]
        random.Random(seed).shuffle(shuffled)
        assert compute(person(), shuffled, PACK) == expected


def test_every_clock_of_a_full_record_is_json_serialisable_and_frozen() -> None:
    result = compute(person(), FULL_RECORD, PACK)
    assert [c.clock for c in result] == [
        "CRIMINAL_DETENTION",
        "ARREST_REVIEW",
        "INVESTIGATION",
        "PROSECUTION_REVIEW",
        "SUPPLEMENTARY_INVESTIGATION",
        "FIRST_INSTANCE",
        "APPEAL_PERIOD",
        "SECOND_INSTANCE",
        "SENTENCE",
        "DELIVERY_TO_PRISON",
    ]
    for clock in result:
        json.dumps(dict(clock.inputs))
        assert clock.article
        assert clock.label
    with pytest.raises(dataclasses.FrozenInstanceError):
        result[0].state = "RUNNING"  # type: ignore[misc]


def test_the_full_record_is_accepted_fact_by_fact() -> None:
    ordered = sorted(FULL_RECORD, key=lambda fact: fact.at)
    for index, fact in enumerate(ordered):
        check(person(), ordered[:index], fact, PACK)


def test_sentence_credits_custody_from_the_first_detention_in_the_full_record() -> None:
    """3 years credited from 2026-03-01 (the detention): last day 2029-02-28."""
    sentence = {c.clock: c for c in compute(person(), FULL_RECORD, PACK)}["SENTENCE"]
    assert sentence.expires_at == end_of("2029-02-28")
    assert sentence.inputs["credit_source"] == "first_custody_fact"


def test_history_records_every_change_with_its_expiry() -> None:
    investigation = {c.clock: c for c in compute(person(), FULL_RECORD, PACK)}["INVESTIGATION"]
    assert [(s.fact_kind, s.expires_at) for s in investigation.history] == [
        ("ARREST_EXECUTED", end_of("2026-05-10")),
        ("EVALUATION_STARTED", None),
        ("EVALUATION_ENDED", end_of("2026-05-20")),
        ("INVESTIGATION_EXTENDED", end_of("2026-06-20")),
        ("TRANSFERRED_FOR_PROSECUTION", end_of("2026-06-20")),
    ]
    assert investigation.state == "ENDED"


def test_facts_at_the_same_instant_apply_in_procedural_order() -> None:
    """A form that records dates only: the extension still follows the detention it extends."""
    same = [
        LegalFact("b", "DETENTION_EXECUTED", at("2026-03-01")),
        LegalFact("a", "DETENTION_EXTENDED", at("2026-03-01"), "COUNTY_POLICE", {"days": 4}),
    ]
    assert clocks(CRIMINAL, same)["CRIMINAL_DETENTION"].expires_at == at("2026-03-08")


def test_fact_kinds_are_labelled_in_chinese() -> None:
    assert FACT_KINDS["DETENTION_EXECUTED"] == "执行刑事拘留"
    assert all(label for label in FACT_KINDS.values())
