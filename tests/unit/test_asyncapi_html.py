"""/asyncapi.html: the whole AsyncAPI document as one well-formed page that loads nothing from elsewhere."""
from html.parser import HTMLParser

import httpx

from services.notify.app import SERVICE as NOTIFY
from shared.asyncapi import document
from shared.asyncapi_html import Part, anchor, constraints_of, page, render_html, type_of
from shared.service import create_app
from shared.settings import Settings
from tests.identities import JWKS_FILE

INLINE = {"a", "code", "strong", "em", "span", "b", "i"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """What a page is made of: its tags in order (an unclosed or misnested tag is an error),
    its ids, links and asset references, its text, and its inline CSS."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.open, self.errors, self.ids, self.hrefs, self.assets = [], [], [], [], []
        self.tags, self.text, self.css, self.doctype = set(), [], [], None
        self.feed(text)
        self.close()
        self.errors += [f"<{tag}> is never closed" for tag in self.open]

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._apart(tag)
        attributes = dict(attrs)
        self.ids += [attributes["id"]] if "id" in attributes else []
        self.hrefs += [attributes["href"]] if "href" in attributes else []
        self.assets += [value for name, value in attrs if name in ("src", "srcset", "data", "poster", "action")]
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        self._apart(tag)
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()

    def _apart(self, tag):
        """A block's or cell's edge parts its text from the next one's, as a browser shows it."""
        if tag not in INLINE:
            self.text.append(" ")

    def handle_data(self, data):
        (self.css if self.open and self.open[-1] == "style" else self.text).append(data)


LINLI = Page(page())


def words(page: Page) -> str:
    """The page's text as a reader sees it: its runs of white space as one space."""
    return " ".join("".join(page.text).split())


def test_the_page_is_well_formed_html_whose_every_link_leads_to_a_place_on_it():
    assert LINLI.doctype == "DOCTYPE html"
    assert LINLI.errors == []
    assert len(LINLI.ids) == len(set(LINLI.ids)), "an id twice"
    assert LINLI.hrefs and {href.removeprefix("#") for href in LINLI.hrefs} <= set(LINLI.ids)


def test_the_page_loads_nothing_from_elsewhere():
    assert not LINLI.tags & {"script", "link", "img", "iframe", "object", "embed", "video", "audio", "source"}
    assert LINLI.assets == []
    assert all(href.startswith("#") for href in LINLI.hrefs)
    css = "".join(LINLI.css)
    assert css and "url(" not in css and "@import" not in css and "@font-face" not in css
    assert "http://" not in page() and "https://" not in page()


def test_every_server_channel_operation_message_and_schema_has_its_place_and_a_line_in_the_contents():
    doc, ids = document(), set(LINLI.ids)
    places = [anchor("server", name) for name in doc["servers"]] + \
        [anchor("operation", name) for name in doc["operations"]]
    listed = [anchor("channel", name) for name in doc["channels"]] + \
        [anchor("message", name) for name in doc["components"]["messages"]] + \
        [anchor("schema", name) for name in doc["components"]["schemas"]]
    assert set(places + listed) <= ids
    assert {href.removeprefix("#") for href in LINLI.hrefs} >= set(listed)
    assert len(doc["channels"]) == 55 and len(doc["components"]["messages"]) == 55


def test_a_channel_shows_its_routing_key_exchange_who_publishes_and_its_message():
    doc = document()
    doc["channels"] = {"personal:assignment.offered": doc["channels"]["personal:assignment.offered"]}
    doc["operations"] = {"send.personal:assignment.offered": doc["operations"]["send.personal:assignment.offered"]}
    text = words(Page(render_html(doc)))
    assert "Routing key assignment.offered" in text and "Exchange linli.personal (topic, durable, vhost /)" in text
    assert "send send.personal:assignment.offered: linli publishes it on linli.personal; whoever binds a queue " \
           "to linli.personal by assignment.offered receives it." in text
    assert "Message AssignmentOffered" in text


def test_a_payload_is_a_table_of_fields_with_their_type_requirement_constraints_and_description():
    text = words(LINLI)
    assert "source string yes min length: 1 max length: 64 pattern: ^[A-Za-z0-9][A-Za-z0-9_.\\-]*$" in text
    assert "grid_code string or null no min length: 1 max length: 64" in text
    assert "parties array of Party yes min items: 2 max items: 50" in text
    assert "severity string no one of: minor, serious default: minor" in text
    assert "Any other field is refused." in text


def test_titles_and_descriptions_keep_their_chinese_and_the_page_says_its_charset_and_language():
    assert '<meta charset="utf-8">' in page() and '<html lang="en">' in page()
    assert "<code>case.submit</code>: a dispute to be mediated (小事不出网格,大事不出社区)." in page()


def test_what_the_document_says_is_shown_as_text_never_as_markup():
    doc = document()
    doc["info"] = {"title": "<script>alert(1)</script>", "version": "1", "description": "a & b <b>bold</b>"}
    rendered = render_html(doc)
    assert "<script>" not in rendered and "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "a &amp; b &lt;b&gt;bold&lt;/b&gt;" in rendered


def test_a_type_is_said_as_a_reader_says_it():
    assert type_of({"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}) == \
        (Part("string (uuid)"), Part(" or null"))
    assert type_of({"type": "array", "items": {"$ref": "#/components/schemas/Party"}}) == \
        (Part("array of "), Part("Party", "#schema-Party"))
    assert type_of({"type": "object", "additionalProperties": {"type": "integer"}}) == \
        (Part("object whose values are "), Part("integer"))
    assert type_of({}) == (Part("any"),)


def test_constraints_come_from_the_field_and_its_non_null_alternative_and_defaults_are_json():
    field = {"anyOf": [{"type": "string", "maxLength": 500, "enum": ["a", "b"]}, {"type": "null"}], "default": None}
    assert constraints_of(field) == (("max length", "500"), ("one of", "a, b"), ("default", "null"))
    assert constraints_of({"type": "array", "default": []}) == (("default", "[]"),)
    assert constraints_of({"type": "integer", "exclusiveMinimum": 0, "maximum": 20}) == \
        (("greater than", "0"), ("maximum", "20"))


async def test_a_service_serves_the_page_to_anyone_as_utf8_html():
    """Every service has the route (shared/service.py); test_access_routes asks each of them."""
    app = create_app(NOTIFY, Settings(linli_token_jwks_file=str(JWKS_FILE), notify_quiet_hours=""))
    # ASGITransport starts no lifespan: the route needs no server.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/asyncapi.html")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == page()


def test_a_table_has_a_description_column_only_where_a_field_has_a_description():
    doc = document()
    doc["components"]["messages"]["ServiceCompletion"]["payload"]["properties"]["note"]["description"] = \
        "What the volunteer `noted`."
    rendered = render_html(doc)
    assert "<td><p>What the volunteer <code>noted</code>.</p></td>" in rendered
    assert rendered.count("<th>Description</th>") == page().count("<th>Description</th>") + 1
