import pytest
import torch
from torch.nn import functional as F

from lrcourse.models import MLP, ArticleCNN, LogisticRegression


def test_article_cnn_flattens_sixteen_five_by_five_maps():
    model = ArticleCNN()
    x = torch.randn(4, 1, 28, 28)
    after_convs = F.max_pool2d(F.relu(model.conv2(F.max_pool2d(F.relu(model.conv1(x)), 2))), 2)
    assert after_convs.shape == (4, 16, 5, 5)
    assert model.fc1.in_features == 16 * 5 * 5
    assert model(x).shape == (4, 10)


def test_the_articles_flattening_would_break_the_batch():
    features = torch.zeros(64, 16, 5, 5)
    assert features.view(-1, 16 * 4 * 4).shape == (100, 256)  # 100 rows for 64 images: the article's bug


def test_article_cnn_forward_matches_a_hand_written_one():
    torch.manual_seed(0)
    model, x = ArticleCNN(), torch.randn(2, 1, 28, 28)
    h = F.max_pool2d(F.relu(F.conv2d(x, model.conv1.weight, model.conv1.bias)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, model.conv2.weight, model.conv2.bias)), 2).reshape(2, 400)
    h = F.relu(h @ model.fc1.weight.T + model.fc1.bias)
    h = F.relu(h @ model.fc2.weight.T + model.fc2.bias)
    torch.testing.assert_close(model(x), h @ model.fc3.weight.T + model.fc3.bias)


def test_mlp_is_linear_relu_stack():
    torch.manual_seed(0)
    model, x = MLP(6, hidden=(5, 4), out_features=3), torch.randn(7, 2, 3)
    first, second, last = (m for m in model.layers if isinstance(m, torch.nn.Linear))
    expected = last(torch.relu(second(torch.relu(first(x.reshape(7, 6))))))
    torch.testing.assert_close(model(x), expected)


def test_mlp_without_hidden_layers_is_logistic_regression():
    torch.manual_seed(0)
    mlp = MLP(4, hidden=(), out_features=2)
    logistic = LogisticRegression(4, num_classes=2)
    logistic.linear.load_state_dict(mlp.layers[1].state_dict())
    x = torch.randn(3, 4)
    torch.testing.assert_close(mlp(x), logistic(x))
    torch.testing.assert_close(logistic(x), x @ logistic.linear.weight.T + logistic.linear.bias)


@pytest.mark.parametrize("make", [lambda: MLP(0), lambda: MLP(4, hidden=(3, -1)), lambda: LogisticRegression(4, 0)])
def test_bad_sizes_are_errors(make):
    with pytest.raises(ValueError):
        make()
