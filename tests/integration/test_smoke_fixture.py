from tests.conftest import Api
from tests.factories import png


def test_prompt_and_upload_round_trip(alice: Api) -> None:
    prompt = alice.create_prompt("귀여운 강아지")
    r = alice.upload(png(), prompt_id=prompt["id"], model="sdxl", parameters='{"seed": 7}')
    assert r.status_code == 201, r.text
    detail = alice.get(f"/api/v1/prompts/{prompt['id']}").json()
    assert detail["outputs"][0]["seed"] == 7
    assert [p["id"] for p in alice.search(q="강아지")] == [prompt["id"]]
