# Step names are display text: spaces, '/', '%', quotes, any script; an interior no-break space too.
{
  steps = [
    { name = "Build / test"; run = "true"; }
    { name = "100% done"; run = "true"; }
    { name = "ünïcödé — テスト ✓ 🚀"; run = "true"; }
    { name = "it's \"quoted\""; run = "true"; }
  ];
}
