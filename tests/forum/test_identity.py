"""Names nobody can impersonate (forum.identity): normal forms, confusable skeletons, the rule
that refuses look-alikes, the skeleton columns and the name_collisions command."""

from __future__ import annotations

import importlib
import io
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forum import identity, linking, services
from forum.identity import name_refusal, normalized, skeleton
from forum.models import Member
from tests.factories import CourseFactory, MemberFactory, UserFactory, moderator, teacher_of

SEED = next((Path(__file__).resolve().parents[2] / "forum" / "seed").rglob("*.md"))


@pytest.fixture(autouse=True)
def _english():
    """The rule's reasons, compared in English (the site speaks Chinese first)."""
    with translation.override("en"):
        yield


RESERVED = "This name is reserved."
TOO_CLOSE = "This name is too close to another member's name."
TEACHER = "This name belongs to a teacher."


@pytest.mark.parametrize(
    "name", ["ａｄｍｉｎ", "аdmin", "admin", "ADMIN", " Admin ", "ad\u200bmin"]
)
def test_look_alikes_of_admin_have_its_skeleton(name):
    assert skeleton(name) == skeleton("admin")


@pytest.mark.parametrize(
    "name", ["独\u200d行", "独\u200c行", "\u202e独行", "独行\ufe0f", "独\u00ad行"]
)
def test_invisible_characters_do_not_change_a_skeleton(name):
    assert skeleton(name) == skeleton("独行")


@pytest.mark.parametrize(
    ("one", "other"), [("独行", "独立"), ("Eric", "Erik"), ("admin", "admins")]
)
def test_different_names_have_different_skeletons(one, other):
    assert skeleton(one) != skeleton(other)


def test_normalized_is_nfkc_case_folded_without_invisibles_and_with_one_space():
    assert normalized("  ＡＤ\u200dＭＩＮ \t\u3000 Straße ") == "admin strasse"


def test_the_prototypes_are_unicodes_confusables_table():
    table = identity.prototypes()
    assert table["а"] == "a"  # CYRILLIC SMALL LETTER A
    assert table["\u0441"] == "c"  # CYRILLIC SMALL LETTER ES
    assert len(table) > 6000


# Any code point, with the kinds that hide or change a name most often.
HOSTILE = st.text(
    st.one_of(
        st.characters(codec=None),
        st.sampled_from("\u200b\u200c\u200d\u202e\u2066\ufe0f\u0301\u3164\ufdfaａаİßǅ"),
    ),
    max_size=60,
)


@given(HOSTILE)
def test_skeleton_never_raises_and_is_its_own_skeleton(name):
    once = skeleton(name)
    assert skeleton(once) == once


@given(HOSTILE)
def test_normalized_is_idempotent(name):
    once = normalized(name)
    assert normalized(once) == once


@given(HOSTILE)
def test_a_name_and_its_normal_form_look_alike(name):
    assert skeleton(normalized(name)) == skeleton(name)


# The rule.


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["作者回复", "管理员", "ａｄｍｉｎ", "аdmin", "MODERATOR", "讲\u200d师"]
)
def test_reserved_words_and_their_look_alikes_are_refused(name):
    assert name_refusal(name) == RESERVED


@pytest.mark.django_db
def test_the_reserved_words_come_from_the_setting(settings):
    settings.FORUM_RESERVED_NAMES = ["课代表"]
    assert name_refusal("课代表") == RESERVED
    assert name_refusal("admin") is None


@pytest.mark.django_db
def test_another_accounts_user_name_or_display_name_is_refused():
    member = services.member_for(UserFactory(username="xiaoming"))
    member.display_name = "小明同学"
    member.save()
    assert name_refusal("XiaoMing") == TOO_CLOSE
    assert name_refusal("xiaoming") == TOO_CLOSE
    assert name_refusal("小明同学") == TOO_CLOSE
    assert name_refusal("小明") is None


@pytest.mark.django_db
def test_a_members_own_names_never_block_them():
    member = services.member_for(UserFactory(username="xiaoming"))
    assert name_refusal("XiaoMing", member=member) is None
    assert name_refusal("XiaoMing") == TOO_CLOSE


@pytest.mark.django_db
def test_imported_commenters_without_an_account_do_not_block():
    MemberFactory(display_name="Eric", import_key="a")
    MemberFactory(display_name="Eric", import_key="b")
    MemberFactory(display_name="null", import_key="c")
    assert name_refusal("Eric") is None
    assert name_refusal("null") is None


@pytest.mark.django_db
def test_a_courses_teacher_line_is_refused_but_not_to_its_own_teacher():
    course = CourseFactory(teacher="独行")
    assert name_refusal("独\u200d行") == TEACHER
    own = teacher_of(course)
    assert name_refusal("独行", member=own) is None


@pytest.mark.django_db
def test_a_teaching_member_is_refused_imported_or_not():
    course = CourseFactory(teacher="")
    imported = MemberFactory(display_name="风轻扬", import_key="teacher")
    imported.courses_taught.add(course)
    teacher_of(course, username="laoshi_wang")
    assert name_refusal("风轻扬") == TEACHER
    assert name_refusal("LAOSHI_WANG") == TEACHER


@pytest.mark.django_db
def test_the_imported_seed_teacher_blocks_their_name():
    call_command("import_lesson", str(SEED), stdout=io.StringIO())
    assert name_refusal("独\u200d行") == TEACHER


@pytest.mark.django_db
def test_a_name_with_nothing_visible_is_refused():
    assert name_refusal("\u200d\u202e ") is not None


@pytest.mark.django_db
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(HOSTILE)
def test_the_rule_answers_any_text_with_a_reason_or_none(name):
    """On PostgreSQL too, which refuses NUL in a query: skeletons hold none."""
    reasons = {None, RESERVED, TOO_CLOSE, TEACHER, "A name needs a visible letter, digit or sign."}
    assert name_refusal(name) in reasons


@pytest.mark.django_db
def test_the_rule_costs_two_queries(django_assert_num_queries):
    services.member_for(UserFactory(username="xiaoming"))
    with django_assert_num_queries(2):
        assert name_refusal("someone_new") is None


# The skeleton columns.


@pytest.mark.django_db
def test_save_keeps_the_skeletons_of_both_names():
    member = services.member_for(UserFactory(username="ａｄｍｉｎ_fan"))
    assert member.account_skeleton == skeleton("admin_fan")
    member.display_name = "Аlice"  # Cyrillic А
    member.save(update_fields=["display_name"])
    member.refresh_from_db()
    assert member.name_skeleton == skeleton("alice")
    assert MemberFactory(display_name="x").account_skeleton == ""


@pytest.mark.django_db
def test_linking_an_account_to_an_imported_member_gives_it_the_accounts_skeleton():
    imported = MemberFactory(display_name="Geek_e9e5f5", import_key="geek")
    assert imported.account_skeleton == ""
    user = UserFactory(username="ｇｅｅｋ_fan")
    linking.member_link_account(moderator=moderator(), member=imported, user=user)
    imported.refresh_from_db()
    assert imported.account_skeleton == skeleton("geek_fan")
    assert name_refusal("GEEK_FAN") == TOO_CLOSE


@pytest.mark.django_db
def test_a_very_long_name_fits_its_skeleton_column():
    member = MemberFactory(display_name="\ufdfa" * 150)
    member.refresh_from_db()
    assert member.name_skeleton == skeleton("\ufdfa" * 150)[: identity.STORED_LENGTH]


@pytest.mark.django_db
def test_imported_commenters_get_their_skeletons():
    call_command("import_lesson", str(SEED), stdout=io.StringIO())
    members = Member.objects.all()
    assert members.count() > 2
    for member in members:
        assert member.name_skeleton == skeleton(member.display_name)


@pytest.mark.django_db
def test_the_admins_rename_updates_the_skeleton(admin_client):
    member = MemberFactory(display_name="old name")
    url = f"/admin/forum/member/{member.pk}/change/"
    data = {"display_name": "ＮＥＷ name", "avatar_url": ""}
    for inline in admin_client.get(url).context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
    assert admin_client.post(url, data).status_code == 302
    member.refresh_from_db()
    assert member.display_name == "ＮＥＷ name"
    assert member.name_skeleton == skeleton("new name")


@pytest.mark.django_db
def test_the_migration_fills_skeletons_and_gives_every_account_a_member():
    migration = importlib.import_module("forum.migrations.0021_name_skeletons")
    without = UserFactory(username="quiet_reader")
    imported = MemberFactory(display_name="Geek_e9e5f5", import_key="k")
    Member.objects.filter(pk=imported.pk).update(name_skeleton="")
    migration.skeletons_fill(apps, None)
    made = Member.objects.get(user=without)
    assert (made.display_name, made.slug) == ("quiet_reader", "quiet_reader")
    assert made.account_skeleton == made.name_skeleton == skeleton("quiet_reader")
    imported.refresh_from_db()
    assert imported.name_skeleton == skeleton("Geek_e9e5f5")


# name_collisions.


def collisions(*args: str) -> str:
    out = io.StringIO()
    call_command("name_collisions", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def collided(db) -> dict[str, Member]:
    """Names from before the rule: two accounts alike, an imported Eric beside an account, two
    imported Erics alone, a reserved word, and an account named like the course's teacher."""
    CourseFactory(teacher="独行")
    latin = services.member_for(UserFactory(username="alice"))
    cyrillic = services.member_for(UserFactory(username="alice2"))
    Member.objects.filter(pk=cyrillic.pk).update(
        display_name="аlice", name_skeleton=skeleton("аlice")
    )
    erik = services.member_for(UserFactory(username="erik"))
    imported = MemberFactory(display_name="ERIK", import_key="erik")
    MemberFactory(display_name="null", import_key="n1")
    MemberFactory(display_name="Null", import_key="n2")
    root = services.member_for(UserFactory(username="r00t"))
    copycat = services.member_for(UserFactory(username="dux"))
    copycat.display_name = "独\u200d行"
    copycat.save()
    return {
        "latin": latin,
        "cyrillic": cyrillic,
        "erik": erik,
        "imported": imported,
        "root": root,
        "copycat": copycat,
    }


def test_name_collisions_lists_groups_and_reserved_names(collided):
    document = json.loads(collisions("--json"))
    groups = {group["skeleton"]: group["members"] for group in document["groups"]}
    assert set(groups) == {skeleton("alice"), skeleton("erik"), skeleton("独行")}
    alike = groups[skeleton("alice")]
    assert [(m["id"], m["kind"]) for m in alike] == [
        (collided["latin"].pk, "account"),
        (collided["cyrillic"].pk, "account"),
    ]
    assert [(m["id"], m["kind"]) for m in groups[skeleton("erik")]] == [
        (collided["erik"].pk, "account"),
        (collided["imported"].pk, "imported"),
    ]
    teacher = groups[skeleton("独行")]
    assert teacher[0]["id"] == collided["copycat"].pk
    assert teacher[1]["id"] is None and teacher[1]["kind"].startswith("teacher line of course")
    assert [(m["id"], m["username"]) for m in document["reserved"]] == [
        (collided["root"].pk, "r00t")
    ]


def test_name_collisions_prints_readable_tables(collided):
    output = collisions()
    assert output.startswith("Names that look alike: 3 groups")
    assert "Names that are reserved words: 1" in output
    rows = {line.split()[0]: line.split()[1:] for line in output.splitlines() if line[:3].strip()}
    assert rows[str(collided["imported"].pk)] == [collided["imported"].slug, "ERIK", "imported"]
    # What a terminal would not show is spelled out.
    assert rows[str(collided["copycat"].pk)] == ["dux", "独<U+200D>行", "dux", "account"]


def test_name_collisions_is_empty_on_a_clean_site(db):
    services.member_for(UserFactory(username="xiaoming"))
    MemberFactory(display_name="Eric", import_key="a")
    MemberFactory(display_name="Eric", import_key="b")
    assert json.loads(collisions("--json")) == {"groups": [], "reserved": []}
    assert "(none)" in collisions()


def test_name_collisions_costs_five_queries(collided, django_assert_num_queries):
    with django_assert_num_queries(5):
        collisions("--json")
