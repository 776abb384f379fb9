"""Top-k accuracy, per-action accuracy and the confusion matrix against values worked out by hand."""
import numpy as np

from action.metrics import accuracy_report, confusion_matrix, top_k_hits

# 4 clips, 6 classes. Ranks of the true class (1 = best): clip 0 true 0 rank 1; clip 1 true 0 rank 2;
# clip 2 true 2 rank 6 (lowest score); clip 3 true 5 rank 1.
SCORES = np.array([[0.50, 0.10, 0.10, 0.10, 0.10, 0.10],
                   [0.30, 0.40, 0.10, 0.10, 0.05, 0.05],
                   [0.20, 0.20, 0.01, 0.19, 0.20, 0.20],
                   [0.00, 0.10, 0.10, 0.10, 0.10, 0.60]])
LABELS = np.array([0, 0, 2, 5])
NAMES = ("a", "b", "c", "d", "e", "f")


def test_top_k_hits_by_hand():
    assert top_k_hits(SCORES, LABELS, 1).tolist() == [True, False, False, True]
    assert top_k_hits(SCORES, LABELS, 2).tolist() == [True, True, False, True]
    assert top_k_hits(SCORES, LABELS, 5).tolist() == [True, True, False, True]
    assert top_k_hits(SCORES, LABELS, 6).tolist() == [True, True, True, True]


def test_a_tie_with_the_true_class_is_not_a_hit():
    assert top_k_hits(np.array([[0.5, 0.5, 0.0]]), np.array([0]), 1).tolist() == [False]
    assert top_k_hits(np.array([[0.5, 0.5, 0.0]]), np.array([0]), 2).tolist() == [True]


def test_confusion_matrix_rows_are_true_columns_predicted():
    matrix = confusion_matrix(np.array([0, 1, 0, 5]), LABELS, 6)
    expected = np.zeros((6, 6), dtype=int)
    expected[0, 0], expected[0, 1], expected[2, 0], expected[5, 5] = 1, 1, 1, 1
    np.testing.assert_array_equal(matrix, expected)


def test_accuracy_report_by_hand():
    report = accuracy_report(SCORES, LABELS, NAMES)
    assert report["clips"] == 4 and report["top1"] == 0.5 and report["top5"] == 0.75
    assert report["per_action"]["a"] == {"clips": 2, "top1": 0.5, "top5": 1.0}
    assert report["per_action"]["c"] == {"clips": 1, "top1": 0.0, "top5": 0.0}
    assert report["per_action"]["f"] == {"clips": 1, "top1": 1.0, "top5": 1.0}
    assert report["per_action"]["b"] == {"clips": 0, "top1": None, "top5": None}
    assert report["mean_class_top1"] == (0.5 + 0.0 + 1.0) / 3  # over the actions that have clips
    assert report["confusion_matrix"][0][:2] == [1, 1] and report["confusion_matrix"][2][0] == 1
