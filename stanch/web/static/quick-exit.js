// Quick exit: the button, or the Escape key, replaces this page with a neutral site.
// location.replace keeps this page out of the history, so Back does not return here.
// Nothing is requested from the other site until the person leaves.
(function () {
  'use strict';
  function leave() {
    var button = document.getElementById('quick-exit');
    var target = (button && button.dataset.exitTo) || 'https://www.bbc.co.uk/weather';
    document.body.classList.add('leaving');
    window.location.replace(target);
  }
  document.addEventListener('DOMContentLoaded', function () {
    var button = document.getElementById('quick-exit');
    if (button) button.addEventListener('click', leave);
  });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' || event.key === 'Esc') leave();
  });
})();
