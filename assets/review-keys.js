/* The review queue's keys (explorer/panels/review.py): j/k next and previous, a accept, r reject,
   1-9 choose one of the glitch's top proposals, u undo. Keys typed into a field are left alone. */
document.addEventListener("keydown", function (event) {
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || !/^[jkaru1-9]$/.test(event.key)) {
    return;
  }
  if (!window.dash_clientside || !window.dash_clientside.set_props) {
    return;
  }
  window.dash_clientside.set_props("review-key", {data: {key: event.key, at: Date.now()}});
  event.preventDefault();
});
