"""Customer success workspace: settings, views, summary, boards, actions, schedule, feed."""
