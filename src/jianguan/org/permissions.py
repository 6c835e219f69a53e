"""Permissions a post (岗位) can carry. Posts are data; these codes are what code checks."""

from __future__ import annotations

from django.db import models


class Perm(models.TextChoices):
    DETAINEE_VIEW = "detainee.view", "查看在押人员"
    DETAINEE_ADMIT = "detainee.admit", "收押"
    DETAINEE_RELEASE = "detainee.release", "出所"
    DETAINEE_MOVE = "detainee.move", "出入所登记（提解、就医、回所）"
    LEGAL_RECORD = "legal.record", "登记法律文书与羁押期限"
    CELL_VIEW = "cell.view", "查看监室"
    CELL_ASSIGN = "cell.assign", "调整监室"
    RECEPTION = "reception.handle", "接待登记"
    INTERROGATION = "interrogation.handle", "提讯"
    PATROL = "patrol.handle", "巡视监控"
    EDUCATION = "education.handle", "管理教育"
    MEDICAL = "medical.handle", "医疗"
    LEAD = "facility.lead", "所领导审批"
    SUPERVISE = "oversight.view", "业务指导（查看下级）"
    AUDIT_VIEW = "audit.view", "查看审计日志"
    ADMINISTER = "system.administer", "系统管理"
    RULES_PUBLISH = "rules.publish", "发布规则包"
    TASK_DISPATCH = "task.dispatch", "勤务指挥（派发、改派、核验任务）"
    ROSTER_EDIT = "roster.edit", "排班"


class PostKind(models.TextChoices):
    """The posts of a facility and of the supervising levels (MISSION.md: who uses it)."""

    RECEPTION = "RECEPTION", "接待"
    ADMISSION = "ADMISSION", "收押"
    INTERROGATION = "INTERROGATION", "提讯"
    PATROL = "PATROL", "巡控"
    CUSTODIAN = "CUSTODIAN", "管教"
    MEDICAL = "MEDICAL", "医务"
    SUBCONTROL = "SUBCONTROL", "分控"
    COMMAND = "COMMAND", "指挥中心"
    LEADER = "LEADER", "所领导"
    SUPERVISOR = "SUPERVISOR", "业务指导"
    ADMINISTRATOR = "ADMINISTRATOR", "系统管理员"


# Default permissions of each post; administrators may change a post's set in the admin.
DEFAULT_POST_PERMS: dict[str, list[Perm]] = {
    PostKind.RECEPTION: [Perm.DETAINEE_VIEW, Perm.RECEPTION],
    PostKind.ADMISSION: [
        Perm.DETAINEE_VIEW,
        Perm.DETAINEE_ADMIT,
        Perm.DETAINEE_RELEASE,
        Perm.DETAINEE_MOVE,
        Perm.LEGAL_RECORD,
        Perm.CELL_VIEW,
        Perm.CELL_ASSIGN,
    ],
    PostKind.INTERROGATION: [Perm.DETAINEE_VIEW, Perm.INTERROGATION],
    PostKind.PATROL: [Perm.DETAINEE_VIEW, Perm.CELL_VIEW, Perm.PATROL],
    PostKind.CUSTODIAN: [Perm.DETAINEE_VIEW, Perm.CELL_VIEW, Perm.EDUCATION],
    PostKind.MEDICAL: [Perm.DETAINEE_VIEW, Perm.MEDICAL],
    PostKind.LEADER: [
        Perm.DETAINEE_VIEW,
        Perm.DETAINEE_RELEASE,
        Perm.DETAINEE_MOVE,
        Perm.LEGAL_RECORD,
        Perm.CELL_VIEW,
        Perm.CELL_ASSIGN,
        Perm.LEAD,
        Perm.AUDIT_VIEW,
        Perm.TASK_DISPATCH,
        Perm.ROSTER_EDIT,
    ],
    PostKind.SUBCONTROL: [Perm.DETAINEE_VIEW, Perm.CELL_VIEW, Perm.PATROL, Perm.TASK_DISPATCH],
    PostKind.COMMAND: [
        Perm.DETAINEE_VIEW,
        Perm.CELL_VIEW,
        Perm.PATROL,
        Perm.TASK_DISPATCH,
        Perm.ROSTER_EDIT,
    ],
    PostKind.SUPERVISOR: [Perm.DETAINEE_VIEW, Perm.CELL_VIEW, Perm.SUPERVISE],
    PostKind.ADMINISTRATOR: [Perm.ADMINISTER, Perm.AUDIT_VIEW, Perm.RULES_PUBLISH],
}

# Posts whose holders must pass a second factor (DESIGN.md §6).
SECOND_FACTOR_POSTS = {PostKind.LEADER, PostKind.ADMINISTRATOR}
