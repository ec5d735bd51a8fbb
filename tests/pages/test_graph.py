"""The citation graph's layout and payload, and the histogram bins: plain values, no Django."""

import math

from datarank_site.pages.graph import Bins, Node, Role, citation_graph, hover_text, node_size, spiral_layout

PAPER = Node(1, "ImageNet", 2009, 61487, Role.PAPER)


def citers(count: int) -> list[Node]:
    return [Node(100 + i, f"Citer {i}", 2020, 1000 - i, Role.CITER) for i in range(count)]


def test_the_layout_is_the_same_for_the_same_input():
    assert spiral_layout(500) == spiral_layout(500)
    nodes = citers(50)
    links = [(100, 1), (101, 100), (102, 1)]
    assert citation_graph(PAPER, nodes, links) == citation_graph(PAPER, nodes, list(reversed(links)))


def test_the_paper_sits_in_the_centre_and_the_most_cited_citers_nearest_it():
    places = spiral_layout(200)
    radii = [math.hypot(x, y) for x, y in places]

    assert places[0] == (0.0, 0.0)
    assert radii[1:] == sorted(radii[1:])


def test_no_two_nodes_share_a_place_even_at_two_thousand():
    places = spiral_layout(2000)

    assert len(set(places)) == 2000
    closest = min(math.dist(places[i], places[i + 1]) for i in range(1, 1999))
    assert closest > 0.5


def test_edges_are_one_polyline_with_null_separators():
    graph = citation_graph(PAPER, citers(3), [(100, 1), (101, 1), (102, 1), (102, 100)])

    assert len(graph["edges"]["x"]) == 3 * 4
    assert graph["edges"]["x"][2::3] == [None] * 4
    assert graph["links"] == [[0, 1], [0, 2], [0, 3], [1, 3]]
    assert graph["links_among_citers"] == 1


def test_links_outside_the_graph_self_loops_and_duplicates_are_dropped():
    graph = citation_graph(PAPER, citers(2), [(100, 1), (1, 100), (100, 999), (101, 101), (101, 1)])

    assert graph["links"] == [[0, 1], [0, 2]]


def test_nodes_carry_their_role_size_and_hover_text():
    self_citation = Node(7, "Own <b>work</b>", None, 1, Role.SELF)
    graph = citation_graph(PAPER, [*citers(1), self_citation], [])

    assert graph["nodes"]["id"] == ["W1", "W100", "W7"]
    assert graph["nodes"]["role"] == [Role.PAPER, Role.CITER, Role.SELF]
    own = "Own &lt;b&gt;work&lt;/b&gt;<br>self-citation, not counted · year unknown · 1 citation"
    assert graph["nodes"]["text"][2] == own
    assert graph["nodes"]["text"][0] == "ImageNet<br>2009 · 61,487 citations"


def test_node_size_grows_with_citations_within_bounds():
    assert node_size(0) == 6
    assert node_size(10) < node_size(1000) < node_size(10**9) == 34
    assert hover_text(Node(5, "", 2001, 0, Role.CITER)) == "W5<br>2001 · 0 citations"


def test_a_paper_with_no_citers_is_a_single_node():
    graph = citation_graph(PAPER, [], [])

    assert graph["nodes"]["x"] == [0.0] and graph["edges"] == {"x": [], "y": []} and graph["links"] == []


def test_bins_cover_the_range_and_put_the_maximum_in_the_last_bin():
    bins = Bins(0.0, 10.0, 5)

    assert bins.width == 2.0
    assert bins.centres() == [1.0, 3.0, 5.0, 7.0, 9.0]
    assert bins.counts([(0, 3), (4, 1), (5, 2)]) == [3, 0, 0, 0, 3]


def test_equal_scores_still_get_a_bin():
    bins = Bins(2.5, 2.5, 40)

    assert bins.width == 1.0 and bins.centres() == [3.0 + i for i in range(40)]
    assert bins.counts([(0, 7)])[0] == 7
