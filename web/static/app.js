// Calbridge pages' one script. Everything works without it; it adds live updates while an import
// runs, the visitor's own time zone on booking pages, and copy buttons.
(() => {
  // Live lists: an element with data-refresh reloads itself from that URL while data-live="yes".
  const live = document.querySelector('[data-refresh]');
  if (live) {
    const poll = async () => {
      const current = document.querySelector('[data-refresh]');
      if (current?.dataset.live !== 'yes') return;
      try {
        const response = await fetch(current.dataset.refresh, {
          credentials: 'same-origin',
          headers: { accept: 'text/html' },
        });
        if (response.ok) {
          const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
          const next = doc.querySelector('[data-refresh]');
          if (next) current.replaceWith(document.importNode(next, true));
        }
      } catch {}
      setTimeout(poll, 2000);
    };
    setTimeout(poll, 2000);
  }

  // Booking pages: the visitor's zone, unless they chose one (the page then carries it in the URL).
  const zoneForm = document.querySelector('form[data-time-zone]');
  if (zoneForm) {
    const select = zoneForm.querySelector('select[name="timeZone"]');
    const url = new URL(location.href);
    const detected = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (select && !url.searchParams.has('timeZone') && detected && detected !== select.value) {
      url.searchParams.set('timeZone', detected);
      location.replace(url.toString());
    }
  }

  // Copy buttons: <button data-copy="#id"> copies that input's value.
  for (const button of document.querySelectorAll('button[data-copy]')) {
    button.addEventListener('click', async (event) => {
      event.preventDefault();
      const input = document.querySelector(button.dataset.copy);
      if (!input) return;
      try {
        await navigator.clipboard.writeText(input.value);
      } catch {
        input.select();
        document.execCommand('copy');
      }
      const label = button.textContent;
      button.textContent = 'Copied';
      setTimeout(() => {
        button.textContent = label;
      }, 1500);
    });
  }
})();
