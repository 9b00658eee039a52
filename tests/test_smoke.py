def test_home_answers(client):
    assert client.get("/").status_code == 200
