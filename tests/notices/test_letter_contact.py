"""The letter's contact line names the case's collector with their extension, never a login name."""

from arrears.core.models import StaffProfile
from arrears.notices import letters
from tests.notices.test_letters import ISSUE, street  # noqa: F401  (the fixture)


def test_the_letter_names_the_collector_and_their_extension(street):  # noqa: F811
    collector = street["collector"]
    collector.last_name, collector.first_name = "李", "明"
    collector.save()
    StaffProfile.objects.create(user=collector, extension="8012")  # no office phone: the company's, with the extension
    first, second = street["cases"][:2]
    first.collector = collector
    first.save(update_fields=["collector"])
    batch = letters.issue_batch(kind="collection", cases=[first, second], issued_on=ISSUE, staff=street["manager"])
    contact = {letter.case_id: letter.content["contact"] for letter in batch.letters.all()}
    assert contact == {first.pk: "（联系人：李明，电话：0755-88886200 转 8012）", second.pk: "（电话：0755-88886200）"}


def test_a_collector_without_a_name_is_not_named(street):  # noqa: F811
    case = street["cases"][0]
    case.collector = street["collector"]  # login "collector", no real name, no profile
    case.save(update_fields=["collector"])
    letter = letters.issue_batch(kind="collection", cases=[case], issued_on=ISSUE, staff=street["manager"]).letters.get()
    assert letter.content["contact"] == "（电话：0755-88886200）"
    assert "collector" not in letter.content["contact"]
