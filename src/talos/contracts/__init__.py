"""What the modules agree on, owned by none of them: the shot spec PRISM writes and AXIS reads
(``cut_spec``), its camera convention (``camera``) and the patterns of the ids and names every
request carries (``patterns``)."""
